// The agent console and the partner portal: one live view of the unified inbox.
// State comes from /api/v1/console/state/ with the event id it reflects; the socket
// resumes from that id, so nothing falls between the page load and the live stream.

const root = document.getElementById("console");
const portal = root.dataset.mode === "portal";
const me = Number(root.dataset.user);
const myTeams = new Set((root.dataset.teams || "").split(",").filter(Boolean).map(Number));
const _ = (text) => (window.gettext ? window.gettext(text) : text);
const fmt = (text, values) => (window.interpolate ? window.interpolate(text, values, true) : text);
const locale = document.documentElement.lang || undefined;
const when = new Intl.DateTimeFormat(locale, {
  dateStyle: "short",
  timeStyle: "short",
  timeZone: root.dataset.timeZone || undefined,
});
const $ = (id) => document.getElementById(id);

const state = {
  conversations: new Map(),
  current: null,
  lastEventId: 0,
  presence: new Map(),
  timelineKeys: new Set(),
  socket: null,
  retry: 0,
};

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data && typeof data === "object" ? Object.values(data).flat().join(" ") : "";
    throw new Error(detail || fmt(_("The server answered %(status)s."), { status: response.status }));
  }
  return data;
}

// ---- conversation list ---------------------------------------------------------
const filters = $("filters");

function matches(conversation) {
  const form = new FormData(filters);
  const scope = form.get("scope") || "all";
  if (form.get("channel") && conversation.channel !== form.get("channel")) return false;
  if (form.get("status") && conversation.status !== form.get("status")) return false;
  if (scope === "team" && !myTeams.has(conversation.team) && conversation.assignee !== me) return false;
  if (scope === "mine" && conversation.assignee !== me) return false;
  if (scope === "unassigned" && conversation.assignee !== null) return false;
  return true;
}

function renderList() {
  const list = $("conversation-list");
  const shown = [...state.conversations.values()]
    .filter(matches)
    .sort((a, b) => (b.last_message_at || b.created_at).localeCompare(a.last_message_at || a.created_at));
  list.replaceChildren(
    ...shown.map((conversation) => {
      const item = document.createElement("li");
      item.role = "option";
      item.tabIndex = 0;
      item.dataset.id = conversation.id;
      item.className = "conversation-item";
      item.setAttribute("aria-selected", String(conversation.id === state.current));
      const title = document.createElement("strong");
      title.textContent = conversation.contact_name || conversation.subject || _("Unknown customer");
      const meta = document.createElement("span");
      meta.className = "muted";
      const assignee = conversation.assignee_name || _("unassigned");
      meta.textContent = `${channelLabel(conversation.channel)} · ${statusLabel(conversation.status)} · ${assignee}`;
      const subject = document.createElement("span");
      subject.className = "subject";
      subject.textContent = conversation.subject;
      item.append(title, subject, meta);
      item.addEventListener("click", () => openConversation(conversation.id));
      item.addEventListener("keydown", (event) => {
        if (event.key === "Enter") openConversation(conversation.id);
      });
      return item;
    }),
  );
  $("list-empty").hidden = shown.length > 0;
}

function channelLabel(channel) {
  return { email: _("E-mail"), phone: _("Phone"), sms: _("SMS"), chat: _("Web chat"), slack: _("Slack") }[channel] || channel;
}

function statusLabel(status) {
  return { open: _("Open"), pending: _("Pending"), snoozed: _("Snoozed"), resolved: _("Resolved") }[status] || status;
}

function upsert(conversation) {
  // Events carry no routing trace (it is staff-only and events also reach partners):
  // keep the one the API gave.
  const known = state.conversations.get(conversation.id);
  if (known && !("routing_trace" in conversation)) conversation.routing_trace = known.routing_trace;
  state.conversations.set(conversation.id, conversation);
  renderList();
  if (conversation.id === state.current) renderHeader(conversation);
}

async function reloadList() {
  const form = new FormData(filters);
  const params = new URLSearchParams({ page_size: "200" });
  for (const name of ["channel", "status"]) if (form.get(name)) params.set(name, form.get(name));
  if (form.get("scope") === "mine") params.set("assignee", "me");
  if (form.get("scope") === "unassigned") params.set("assignee", "none");
  const page = await api(`/api/v1/conversations/?${params}`);
  for (const conversation of page.results) state.conversations.set(conversation.id, conversation);
  renderList();
}
filters.addEventListener("change", reloadList);

// ---- one conversation ----------------------------------------------------------
function renderHeader(conversation) {
  $("thread-subject").textContent = conversation.subject || conversation.contact_name || `#${conversation.id}`;
  const parts = [channelLabel(conversation.channel), statusLabel(conversation.status)];
  if (conversation.team_name) parts.push(conversation.team_name);
  parts.push(conversation.assignee_name ? fmt(_("assigned to %(name)s"), { name: conversation.assignee_name }) : _("unassigned"));
  const sla = slaSummary(conversation);
  if (sla) parts.push(sla);
  $("thread-meta").textContent = parts.join(" · ");
  renderRoutingTrace(conversation.routing_trace || []);
}

// Why the conversation landed where it did (inbox/routing.py), one line per step.
function renderRoutingTrace(lines) {
  const box = $("routing-trace");
  if (!box) return;  // the portal has none
  box.hidden = lines.length === 0;
  const list = $("routing-trace-lines");
  list.replaceChildren(...lines.map((line) => {
    const item = document.createElement("li");
    item.textContent = line;
    return item;
  }));
}

// The SLA clock that runs out first, or the breach (due times come from inbox/sla.py).
function slaSummary(conversation) {
  if (conversation.first_response_breached || conversation.next_response_breached || conversation.resolution_breached) {
    return _("SLA breached");
  }
  const due = [conversation.first_response_at ? null : conversation.first_response_due_at, conversation.next_response_due_at, conversation.resolution_due_at]
    .filter(Boolean)
    .sort()[0];
  if (!due || conversation.status === "resolved") return "";
  const at = new Date(due).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
  return fmt(_("SLA due %(at)s"), { at });
}

function timelineEntry(key, { author, text, at, kind }) {
  if (state.timelineKeys.has(key)) return;
  state.timelineKeys.add(key);
  const item = document.createElement("li");
  item.className = `entry ${kind}`;
  item.dataset.key = key;
  item.dataset.at = at;
  const head = document.createElement("div");
  head.className = "entry-head";
  const who = document.createElement("strong");
  who.textContent = author;
  const time = document.createElement("time");
  time.dateTime = at;
  time.textContent = when.format(new Date(at));
  head.append(who, time);
  if (kind === "note") {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = _("Internal note");
    head.append(badge);
  }
  const body = document.createElement("div");
  body.className = "entry-body";
  body.textContent = text;
  item.append(head, body);
  const timeline = $("timeline");
  const later = [...timeline.children].find((child) => child.dataset.at > at);
  timeline.insertBefore(item, later || null);
  item.scrollIntoView({ block: "nearest" });
}

function showMessage(message) {
  const author = message.direction === "inbound" ? message.sender_name || _("Customer") : message.author_name || message.sender_name;
  timelineEntry(`m-${message.id}`, { author, text: message.body_text, at: message.created_at, kind: message.direction });
}

function showNote(note) {
  timelineEntry(`n-${note.id}`, { author: note.author_name || "", text: note.body, at: note.created_at, kind: "note" });
}

async function openConversation(id) {
  if (state.current && state.current !== id) send({ action: "leave", conversation: state.current });
  state.current = id;
  state.timelineKeys.clear();
  $("timeline").replaceChildren();
  $("collision").hidden = true;
  $("typing").textContent = "";
  $("thread-empty").hidden = true;
  $("thread").hidden = false;
  renderList();
  const conversation = state.conversations.get(id) || (await api(`/api/v1/conversations/${id}/`));
  upsert(conversation);
  send({ action: "view", conversation: id });
  const [messages, notes] = await Promise.all([
    api(`/api/v1/conversations/${id}/messages/?page_size=500`),
    api(`/api/v1/conversations/${id}/notes/?page_size=500`),
  ]);
  if (state.current !== id) return;
  messages.results.forEach(showMessage);
  notes.results.forEach(showNote);
  if (!portal) loadProfile(conversation);
}

async function loadProfile(conversation) {
  // The panel is rendered by the server (the sales contact page's partials), so the
  // console and the sales pages show a contact the same way, through the same reads.
  const profile = $("profile");
  profile.dataset.contact = conversation.contact || "";
  if (!conversation.contact) {
    state.contact = null;
    profile.replaceChildren(Object.assign(document.createElement("p"), { className: "muted", textContent: _("No contact linked yet.") }));
    return;
  }
  profile.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(`/sales/contacts/${conversation.contact}/panel/?conversation=${conversation.id}`, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (!response.ok) throw new Error(fmt(_("The server answered %(status)s."), { status: response.status }));
    const html = await response.text();
    if (state.current !== conversation.id) return;
    profile.innerHTML = html;
    const panel = profile.querySelector(".profile-panel");
    state.contact = panel ? { id: conversation.contact, name: panel.dataset.name, account: panel.dataset.accountName } : null;
  } catch (error) {
    profile.replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: error.message }));
  } finally {
    profile.removeAttribute("aria-busy");
  }
}

if (!portal) {
  // A conversation of the cross-channel timeline opens in place.
  $("profile").addEventListener("click", (event) => {
    const link = event.target.closest("[data-conversation] a");
    if (!link) return;
    event.preventDefault();
    openConversation(Number(link.closest("[data-conversation]").dataset.conversation));
  });
}

// ---- composer ---------------------------------------------------------------------
const composer = $("composer");
let typingTimer = null;
composer.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = composer.body.value.trim();
  if (!body || !state.current) return;
  const mode = new FormData(composer).get("mode");
  $("composer-error").textContent = "";
  try {
    const path = `/api/v1/conversations/${state.current}/${mode === "note" ? "notes" : "messages"}/`;
    const created = await api(path, { method: "POST", body: { body } });
    if (mode === "note") showNote(created); else showMessage(created);
    composer.body.value = "";
    stopTyping();
  } catch (error) {
    $("composer-error").textContent = error.message;
  }
});
composer.body.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) composer.requestSubmit();
});
composer.body.addEventListener("input", () => {
  if (!state.current || portal) return;
  if (!typingTimer) send({ action: "typing", conversation: state.current, typing: true });
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, 3000);
});
function stopTyping() {
  if (typingTimer && state.current) send({ action: "typing", conversation: state.current, typing: false });
  clearTimeout(typingTimer);
  typingTimer = null;
}

if (!portal) {
  $("assign-me").addEventListener("click", () => act("assign", { assignee: me }));
  $("resolve").addEventListener("click", () => act("status", { status: "resolved" }));
  $("presence").addEventListener("change", (event) => send({ action: "presence", status: event.target.value }));
}

async function act(action, body) {
  if (!state.current) return;
  try {
    upsert(await api(`/api/v1/conversations/${state.current}/${action}/`, { method: "POST", body }));
  } catch (error) {
    $("composer-error").textContent = error.message;
  }
}

// ---- canned responses ----------------------------------------------------------------
// Typed as /shortcut in the composer or picked from the list; placeholders such as
// {{contact.first_name}} are filled here from the open conversation's contact.
const canned = { all: [], shown: [], active: 0, start: -1 };
const cannedList = $("canned-list");
const cannedButton = $("canned-button");
const myName = root.dataset.userName || "";

export function fillPlaceholders(text, values) {
  return text.replace(/\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}/g, (whole, scope, field) => {
    const value = values[scope] && values[scope][field];
    return value ? value : whole;
  });
}

function placeholderValues() {
  const contact = state.contact || {};
  const name = contact.name || "";
  return {
    contact: { name, first_name: name.split(/\s+/)[0] || "" },
    account: { name: contact.account || "" },
    agent: { name: myName, first_name: myName.split(/\s+/)[0] || "" },
  };
}

function closeCanned() {
  if (!cannedList) return;
  cannedList.hidden = true;
  canned.start = -1;
  composer.body.setAttribute("aria-expanded", "false");
  composer.body.removeAttribute("aria-activedescendant");
  cannedButton.setAttribute("aria-expanded", "false");
}

function showCanned(query, start) {
  canned.shown = canned.all.filter((item) => item.shortcut.startsWith(query) || (query && item.title.toLowerCase().includes(query)));
  canned.start = start;
  canned.active = 0;
  if (!canned.shown.length) {
    cannedList.replaceChildren(Object.assign(document.createElement("li"), { className: "muted", textContent: _("No canned response matches.") }));
  } else {
    cannedList.replaceChildren(...canned.shown.map((item, index) => {
      const li = document.createElement("li");
      li.id = `canned-${item.id}`;
      li.setAttribute("role", "option");
      li.dataset.index = index;
      const key = Object.assign(document.createElement("strong"), { textContent: `/${item.shortcut}` });
      li.append(key, ` ${item.title}`);
      return li;
    }));
  }
  cannedList.hidden = false;
  composer.body.setAttribute("aria-expanded", "true");
  cannedButton.setAttribute("aria-expanded", "true");
  highlightCanned();
}

function highlightCanned() {
  cannedList.querySelectorAll("[role=option]").forEach((li, index) => li.setAttribute("aria-selected", String(index === canned.active)));
  const current = canned.shown[canned.active];
  if (current) composer.body.setAttribute("aria-activedescendant", `canned-${current.id}`);
}

function insertCanned(item) {
  const body = composer.body;
  const text = fillPlaceholders(item.body, placeholderValues());
  const caret = body.selectionStart;
  const from = canned.start >= 0 ? canned.start : caret;
  body.value = body.value.slice(0, from) + text + body.value.slice(caret);
  const end = from + text.length;
  closeCanned();
  body.focus();
  body.setSelectionRange(end, end);
}

if (cannedList) {
  composer.body.addEventListener("input", () => {
    const body = composer.body;
    const before = body.value.slice(0, body.selectionStart);
    const match = before.match(/(?:^|\s)\/([a-z0-9_-]*)$/);
    if (match && canned.all.length) showCanned(match[1], before.length - match[1].length - 1);
    else if (canned.start >= 0) closeCanned();
  });
  composer.body.addEventListener("keydown", (event) => {
    if (cannedList.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      canned.active = (canned.active + step + canned.shown.length) % Math.max(canned.shown.length, 1);
      highlightCanned();
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey && canned.shown.length) {
      event.preventDefault();
      event.stopImmediatePropagation();
      insertCanned(canned.shown[canned.active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeCanned();
    }
  });
  cannedList.addEventListener("mousedown", (event) => event.preventDefault());
  cannedList.addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) insertCanned(canned.shown[Number(option.dataset.index)]);
  });
  cannedButton.addEventListener("click", () => {
    if (!cannedList.hidden) { closeCanned(); return; }
    composer.body.focus();
    showCanned("", -1);
  });
  composer.body.addEventListener("blur", () => setTimeout(() => {
    if (document.activeElement !== composer.body && document.activeElement !== cannedButton) closeCanned();
  }, 150));
}

async function loadCanned() {
  try {
    const data = await api("/api/v1/canned-responses/?active=1&page_size=500");
    canned.all = data.results || data;
  } catch {
    canned.all = [];
  }
}

// ---- shortcut help ------------------------------------------------------------------
const help = $("shortcut-help");
let helpReturnFocus = null;
function openHelp() {
  helpReturnFocus = document.activeElement;
  help.hidden = false;
  $("shortcut-help-close").focus();
}
function closeHelp() {
  help.hidden = true;
  if (helpReturnFocus && helpReturnFocus.focus) helpReturnFocus.focus();
}
$("shortcut-help-close").addEventListener("click", closeHelp);
$("shortcut-help-open")?.addEventListener("click", openHelp);
help.addEventListener("click", (event) => { if (event.target === help) closeHelp(); });

// ---- presence, collision, screen pop ---------------------------------------------
function renderPresence() {
  const list = $("presence-list");
  if (!list) return;
  list.replaceChildren(
    ...[...state.presence.values()].map((person) => {
      const item = document.createElement("li");
      item.className = `presence ${person.status}`;
      item.textContent = `${person.name} — ${{ online: _("Online"), away: _("Away"), offline: _("Offline") }[person.status]}`;
      return item;
    }),
  );
}

function showCollision(data) {
  if (data.conversation !== state.current) return;
  const others = data.viewers.filter((viewer) => viewer.user !== me);
  const line = $("collision");
  line.hidden = others.length === 0;
  line.textContent = others
    .map((viewer) => fmt(viewer.activity === "replying" ? _("%(name)s is replying") : _("%(name)s is viewing"), { name: viewer.name }))
    .join(" · ");
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function showScreenPop(data) {
  const body = $("screen-pop-body");
  const parts = [element("p", fmt(_("From %(number)s"), { number: data.call.from }), "muted")];
  const contact = data.contact;
  if (contact) {
    parts.unshift(element("p", contact.name + (contact.account ? ` — ${contact.account.name}` : ""), "pop-name"));
    const facts = [
      ...contact.phones.map((phone) => `${phone.label}: ${phone.raw}`),
      ...contact.emails.map((email) => email.address),
      contact.tags && contact.tags.length ? fmt(_("Tags: %(tags)s"), { tags: contact.tags.join(", ") }) : "",
      ...(contact.open_deals || []).map((deal) => fmt(_("Open deal: %(title)s (%(value)s %(currency)s)"), deal)),
      ...(contact.open_conversations || []).map((c) => fmt(_("Open: %(subject)s"), { subject: c.subject || channelLabel(c.channel) })),
      ...(contact.recent_interactions || []).slice(0, 3).map((i) => `${channelLabel(i.channel)}: ${i.excerpt}`),
    ].filter(Boolean);
    const list = element("ul", undefined, "plain");
    list.replaceChildren(...facts.map((fact) => element("li", fact)));
    parts.push(list);
  } else if (data.candidates && data.candidates.length) {
    parts.push(element("p", _("Several contacts share this number. Who is calling?")));
    for (const candidate of data.candidates) {
      const pick = element("button", candidate.name + (candidate.account ? ` (${candidate.account.name})` : ""), "pop-choice");
      pick.type = "button";
      pick.addEventListener("click", () => linkCaller(data.call.id, { contact: candidate.id }));
      parts.push(pick);
    }
  } else {
    parts.push(element("p", _("Unknown caller")));
    const form = element("form", undefined, "pop-create");
    const label = element("label", _("Name"));
    const input = element("input");
    input.name = "name";
    input.required = true;
    label.append(input);
    const save = element("button", _("Create contact"), "primary");
    save.type = "submit";
    form.append(label, save);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      linkCaller(data.call.id, { name: input.value.trim() });
    });
    parts.push(form);
  }
  body.replaceChildren(...parts);
  $("screen-pop").hidden = false;
  $("screen-pop").dataset.call = data.call.id;
  $("screen-pop-close").focus();
}

async function linkCaller(callId, body) {
  try {
    showScreenPop(await api(`/api/v1/calls/${callId}/contact/`, { method: "POST", body }));
  } catch (error) {
    $("screen-pop-body").append(element("p", error.message, "error"));
  }
}
$("screen-pop-close").addEventListener("click", () => ($("screen-pop").hidden = true));

// ---- the socket ---------------------------------------------------------------------
function setConnection(status, text) {
  const badge = $("connection");
  badge.dataset.state = status;
  badge.textContent = text;
}

function send(frame) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
}

const handlers = {
  "conversation.created": (data) => upsert(data.conversation),
  "conversation.updated": (data) => upsert(data.conversation),
  "conversation.unshared": (data) => {
    state.conversations.delete(data.conversation.id);
    renderList();
    if (state.current === data.conversation.id) {
      state.current = null;
      $("thread").hidden = true;
      $("thread-empty").hidden = false;
    }
  },
  "message.created": (data) => {
    if (data.conversation === state.current) showMessage(data.message);
  },
  "note.created": (data) => {
    if (data.conversation === state.current) showNote(data.note);
  },
  "presence.changed": (data) => {
    state.presence.set(data.user, { name: data.name, status: data.status });
    renderPresence();
    if (data.user === me && $("presence") && data.status !== "offline") $("presence").value = data.status;
  },
  collision: showCollision,
  typing: (data) => {
    if (data.conversation !== state.current || data.user === me) return;
    $("typing").textContent = data.typing ? fmt(_("%(name)s is typing…"), { name: data.name || _("The customer") }) : "";
  },
  "call.incoming": showScreenPop,
};

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/console/`);
  state.socket = socket;
  setConnection("connecting", _("Connecting…"));
  socket.addEventListener("open", () => {
    state.retry = 0;
    socket.send(JSON.stringify({ action: "resume", since: state.lastEventId }));
    if (state.current) send({ action: "view", conversation: state.current });
    setConnection("live", _("Live"));
  });
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (typeof frame.id === "number") state.lastEventId = Math.max(state.lastEventId, frame.id);
    const handler = handlers[frame.type];
    if (handler) handler(frame.data);
  });
  socket.addEventListener("close", () => {
    setConnection("offline", _("Reconnecting…"));
    state.retry = Math.min(state.retry + 1, 6);
    setTimeout(connect, 400 * 2 ** state.retry);
  });
}
setInterval(() => send({ action: "ping" }), 20000);

// ---- keyboard --------------------------------------------------------------------
document.addEventListener("keydown", (event) => {
  const typingInField = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (event.key === "Escape") { $("screen-pop").hidden = true; if (!help.hidden) closeHelp(); }
  if (typingInField || event.ctrlKey || event.metaKey || event.altKey) return;
  if (!help.hidden && event.key !== "?") return; // the overlay is modal
  const items = [...document.querySelectorAll(".conversation-item")];
  const index = items.findIndex((item) => Number(item.dataset.id) === state.current);
  const go = (offset) => {
    const next = items[Math.max(0, Math.min(items.length - 1, index + offset))];
    if (next) { openConversation(Number(next.dataset.id)); next.focus(); }
  };
  const keys = {
    j: () => go(1),
    k: () => go(-1),
    r: () => { composer.mode.value = "reply"; composer.body.focus(); },
    n: () => { composer.mode.value = "note"; composer.body.focus(); },
    e: () => !portal && act("status", { status: "resolved" }),
    a: () => !portal && act("assign", { assignee: me }),
    "/": () => (document.querySelector("[data-search-input]") || $("search-q"))?.focus(),
    "?": () => (help.hidden ? openHelp() : closeHelp()),
  };
  if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
});

// ---- start ------------------------------------------------------------------------
const initial = await api("/api/v1/console/state/");
state.lastEventId = initial.event_id;
for (const conversation of initial.conversations) state.conversations.set(conversation.id, conversation);
for (const person of initial.presence) state.presence.set(person.user, person);
renderList();
renderPresence();
connect();
if (!portal) loadCanned();
const fromHash = location.hash.match(/^#conversation-(\d+)$/);
if (fromHash) openConversation(Number(fromHash[1]));
