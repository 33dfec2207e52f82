// The console's search box: GET /api/v1/search/?q=… and a list of results.
// Snippets come from the server escaped, with hits in <mark>; they are still
// rebuilt here from text nodes and <mark> elements only, never inserted as HTML.

const PAGE_SIZE = 20;

const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const more = document.getElementById("search-more");

let state = { query: "", page: 1, shown: 0 };

function countText(count) {
  if (count === 0) return form.dataset.none;
  if (count === 1) return form.dataset.one;
  return form.dataset.many.replace("%(count)s", String(count));
}

function snippetNodes(html) {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  const nodes = [];
  for (const node of parsed.body.childNodes) {
    if (node.nodeType === Node.ELEMENT_NODE && node.tagName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      nodes.push(mark);
    } else {
      nodes.push(document.createTextNode(node.textContent));
    }
  }
  return nodes;
}

function resultItem(result) {
  const item = document.createElement("li");
  item.className = `search-result search-${result.type}`;
  const heading = document.createElement("div");
  const kind = document.createElement("span");
  kind.className = "badge";
  kind.textContent = result.type;
  heading.append(kind, " ");
  if (result.type === "document") {
    const link = document.createElement("a");
    link.href = `/api/v1/documents/${result.id}/download/`;
    link.textContent = result.title;
    heading.append(link);
  } else {
    const title = document.createElement("strong");
    title.textContent = result.title;
    heading.append(title);
  }
  const snippet = document.createElement("p");
  snippet.className = "snippet";
  snippet.append(...snippetNodes(result.snippet));
  item.append(heading, snippet);
  return item;
}

async function load(query, page) {
  const params = new URLSearchParams({ q: query, page: String(page), page_size: String(PAGE_SIZE) });
  status.textContent = form.dataset.searching;
  list.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(`${form.action}?${params}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(String(response.status));
    const body = await response.json();
    if (page === 1) list.replaceChildren();
    list.append(...body.results.map(resultItem));
    state = { query, page, shown: (page === 1 ? 0 : state.shown) + body.results.length };
    status.textContent = countText(body.count);
    more.hidden = !body.next;
  } catch {
    status.textContent = form.dataset.error;
    more.hidden = true;
  } finally {
    list.removeAttribute("aria-busy");
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const query = input.value.trim();
  if (query) load(query, 1);
});

more.addEventListener("click", () => load(state.query, state.page + 1));
