// Sales pages: moving deals on the pipeline board, marking tasks done, adding notes
// and uploading documents. Every write goes through the REST API; the page is
// server-rendered, so a reload shows what the server stored.

const _ = (text) => (window.gettext ? window.gettext(text) : text);
const fmt = (text, values) => (window.interpolate ? window.interpolate(text, values, true) : text);

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function api(path, { method = "GET", body, form } = {}) {
  const headers = { "X-CSRFToken": csrfToken(), Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers,
    body: form || (body === undefined ? undefined : JSON.stringify(body)),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data && typeof data === "object" ? Object.values(data).flat().join(" ") : "";
    throw new Error(detail || fmt(_("The server answered %(status)s."), { status: response.status }));
  }
  return data;
}

// ---- pipeline board ----------------------------------------------------------------
const board = document.getElementById("pipeline");
const boardStatus = document.getElementById("pipeline-status");

function updateCounts() {
  for (const column of board.querySelectorAll(".pipeline-column")) {
    column.querySelector(".count").textContent = column.querySelectorAll(".deal-card").length;
  }
}

async function moveDeal(card, stage) {
  const from = card.closest(".pipeline-column");
  const to = board.querySelector(`.pipeline-column[data-stage="${stage}"]`);
  if (!to || from === to) return;
  to.querySelector(".deal-cards").prepend(card);
  card.querySelector("select").value = stage;
  card.dataset.saving = "true";
  updateCounts();
  try {
    await api(`/api/v1/deals/${card.dataset.deal}/`, { method: "PATCH", body: { stage } });
    boardStatus.textContent = fmt(_("%(title)s moved to %(stage)s."), {
      title: card.dataset.title,
      stage: to.querySelector("h2").firstChild.textContent.trim(),
    });
  } catch (error) {
    from.querySelector(".deal-cards").prepend(card);
    card.querySelector("select").value = from.dataset.stage;
    updateCounts();
    boardStatus.textContent = `${board.dataset.error} ${error.message}`;
  } finally {
    delete card.dataset.saving;
  }
}

if (board) {
  board.addEventListener("dragstart", (event) => {
    const card = event.target.closest(".deal-card");
    if (!card) return;
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    event.dataTransfer.effectAllowed = "move";
    card.classList.add("dragging");
  });
  board.addEventListener("dragend", (event) => {
    event.target.closest(".deal-card")?.classList.remove("dragging");
    board.querySelectorAll(".drop-target").forEach((el) => el.classList.remove("drop-target"));
  });
  board.addEventListener("dragover", (event) => {
    const column = event.target.closest(".pipeline-column");
    if (!column) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".drop-target").forEach((el) => el !== column && el.classList.remove("drop-target"));
    column.classList.add("drop-target");
  });
  board.addEventListener("drop", (event) => {
    const column = event.target.closest(".pipeline-column");
    if (!column) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    const card = board.querySelector(`.deal-card[data-deal="${event.dataTransfer.getData("text/plain")}"]`);
    if (card) moveDeal(card, column.dataset.stage);
  });
  board.addEventListener("change", (event) => {
    const card = event.target.closest(".deal-card");
    if (card && event.target.tagName === "SELECT") {
      moveDeal(card, event.target.value).then(() => event.target.focus());
    }
  });
}

// ---- tasks ---------------------------------------------------------------------------
const taskList = document.getElementById("task-list");
if (taskList) {
  taskList.addEventListener("change", async (event) => {
    if (!event.target.classList.contains("task-done")) return;
    const item = event.target.closest(".task");
    const status = event.target.checked ? "done" : "open";
    try {
      await api(`/api/v1/tasks/${item.dataset.task}/`, { method: "PATCH", body: { status } });
      item.dataset.status = status;
      document.getElementById("tasks-status").textContent = event.target.checked ? _("Task marked done.") : _("Task reopened.");
    } catch (error) {
      event.target.checked = !event.target.checked;
      document.getElementById("tasks-status").textContent = `${taskList.dataset.error} ${error.message}`;
    }
  });
}

// ---- notes and documents ----------------------------------------------------------
function prependItem(listId, node) {
  const list = document.getElementById(listId);
  list.querySelector(".empty")?.remove();
  list.prepend(node);
}

const noteForm = document.querySelector(".note-form");
if (noteForm) {
  noteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = noteForm.querySelector(".error");
    error.textContent = "";
    const body = noteForm.body.value.trim();
    if (!body) return;
    try {
      const note = await api("/api/v1/notes/", {
        method: "POST",
        body: { body, [noteForm.dataset.linkField]: Number(noteForm.dataset.linkId) },
      });
      const item = document.createElement("li");
      item.className = "note";
      const text = document.createElement("p");
      text.textContent = note.body;
      const meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = note.author_name || "";
      item.append(text, meta);
      prependItem("note-list", item);
      noteForm.reset();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
}

const documentForm = document.querySelector(".document-form");
if (documentForm) {
  documentForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = documentForm.querySelector(".error");
    error.textContent = "";
    const form = new FormData(documentForm);
    form.append(documentForm.dataset.linkField, documentForm.dataset.linkId);
    try {
      const created = await api("/api/v1/documents/", { method: "POST", form });
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = created.download_url || `/api/v1/documents/${created.id}/download/`;
      link.textContent = created.title || created.filename;
      item.append(link);
      prependItem("document-list", item);
      documentForm.reset();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
}

// ---- new deals and tasks ------------------------------------------------------------
function links(form) {
  // The account and contact the page is about, if any ("" in the data attributes: none).
  const linked = {};
  if (form.dataset.linkAccount) linked.account = Number(form.dataset.linkAccount);
  if (form.dataset.linkContact) linked.contact = Number(form.dataset.linkContact);
  return linked;
}

// By name through `elements`: `form.title` would be the form's own title attribute.
const field = (form, name) => form.elements.namedItem(name);

function submitting(form, write) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = form.querySelector(".error");
    error.textContent = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await write();
      form.reset();
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      button.disabled = false;
    }
  });
}

function status(form, text) {
  const error = form.querySelector(".error");
  error.textContent = "";
  const footer = form.querySelector(".form-footer");
  let saved = footer.querySelector(".saved");
  if (!saved) {
    saved = document.createElement("span");
    saved.className = "saved muted";
    saved.setAttribute("role", "status");
    footer.prepend(saved);
  }
  saved.textContent = text;
}

const dealForm = document.querySelector(".deal-form");
if (dealForm) {
  submitting(dealForm, async () => {
    const stageSelect = field(dealForm, "stage");
    const deal = await api("/api/v1/deals/", {
      method: "POST",
      body: {
        title: field(dealForm, "title").value.trim(),
        value: field(dealForm, "value").value,
        currency: field(dealForm, "currency").value.trim().toUpperCase(),
        stage: stageSelect.value,
        expected_close: field(dealForm, "expected_close").value || null,
        owner: Number(dealForm.dataset.owner),
        ...links(dealForm),
      },
    });
    const item = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = deal.title;
    const badge = document.createElement("span");
    badge.className = "stage-badge";
    badge.dataset.stage = deal.stage;
    badge.textContent = stageSelect.options[stageSelect.selectedIndex].text;
    const meta = document.createElement("span");
    meta.className = "muted";
    meta.textContent = `${Number(deal.value).toLocaleString()} ${deal.currency}`;
    item.append(title, " ", badge, " ", meta);
    prependItem("deal-list", item);
    status(dealForm, fmt(_("Deal %(title)s created."), { title: deal.title }));
  });
}

const taskForm = document.querySelector(".task-form");
if (taskForm) {
  submitting(taskForm, async () => {
    const due = field(taskForm, "due_at").value;
    const task = await api("/api/v1/tasks/", {
      method: "POST",
      body: {
        title: field(taskForm, "title").value.trim(),
        // datetime-local has no zone: it is the browser's local time.
        due_at: due ? new Date(due).toISOString() : null,
        assignee: Number(taskForm.dataset.assignee),
        ...links(taskForm),
      },
    });
    if (taskList) {
      const item = document.createElement("li");
      item.className = "task";
      item.dataset.task = task.id;
      item.dataset.status = task.status;
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.className = "task-done";
      const title = document.createElement("span");
      title.className = "task-title";
      title.textContent = task.title;
      label.append(box, " ", title);
      item.append(label);
      if (task.due_at) {
        const when = document.createElement("span");
        when.className = "muted";
        const time = document.createElement("time");
        time.dateTime = task.due_at;
        time.textContent = new Date(task.due_at).toLocaleString();
        when.append(`${_("Due")} `, time);
        item.append(" ", when);
      }
      prependItem("task-list", item);
    }
    status(taskForm, fmt(_("Task %(title)s created."), { title: task.title }));
  });
}
