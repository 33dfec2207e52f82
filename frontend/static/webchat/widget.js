/*
 * Web chat widget. A customer's site includes it with one tag:
 *
 *   <script src="https://HUB/static/webchat/widget.js" data-inbox="demo" async></script>
 *
 * It talks to /ws/chat/<inbox>/ on the hub that served it, keeps the visitor's signed
 * token (and the last event id) in localStorage so a reload continues the same
 * conversation, resumes after a dropped connection, and resends unacknowledged
 * messages with the same client_id (the hub stores each one once).
 */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const hub = new URL(script.src, location.href).origin;
  const inboxKey = script.dataset.inbox || "demo";
  const lang = (script.dataset.lang || document.documentElement.lang || "en").slice(0, 2);
  const TEXT = {
    en: { open: "Chat with us", title: "Chat", name: "Your name (optional)", email: "Your e-mail (optional)",
          placeholder: "Write a message…", send: "Send", typing: "is typing…", offline: "Reconnecting…",
          close: "Close chat", you: "You" },
    nb: { open: "Chat med oss", title: "Chat", name: "Navnet ditt (valgfritt)", email: "E-posten din (valgfritt)",
          placeholder: "Skriv en melding…", send: "Send", typing: "skriver…", offline: "Kobler til på nytt…",
          close: "Lukk chatten", you: "Du" },
  };
  const t = TEXT[lang] || TEXT.en;
  const storeKey = `hub-webchat:${hub}:${inboxKey}`;
  // firstId survives reloads: a new page replays the conversation from the visitor's
  // first event (not the whole log). lastId lives in the page: reconnects resume there.
  const state = Object.assign({ token: "", firstId: 0 }, JSON.parse(localStorage.getItem(storeKey) || "{}"));
  state.lastId = state.firstId ? state.firstId - 1 : 0;
  const save = () => localStorage.setItem(storeKey, JSON.stringify({ token: state.token, firstId: state.firstId }));
  const pending = new Map(); // client_id -> frame, until the hub echoes it back
  const shown = new Set();

  const host = document.createElement("div");
  host.setAttribute("data-hub-webchat", inboxKey);
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
    <style>
      :host { all: initial; font-family: system-ui, sans-serif; }
      .launcher, .panel { position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483000; }
      .launcher { background: #1d4ed8; color: #fff; border: 0; border-radius: 999px; padding: .75rem 1.1rem; font: inherit; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
      .panel { width: min(22rem, calc(100vw - 2rem)); height: min(30rem, calc(100vh - 2rem)); display: none; flex-direction: column; background: #fff; color: #1f2933; border: 1px solid #d9dee4; border-radius: 12px; box-shadow: 0 8px 28px rgba(0,0,0,.25); overflow: hidden; }
      .panel.open { display: flex; }
      header { display: flex; justify-content: space-between; align-items: center; background: #1d4ed8; color: #fff; padding: .6rem .8rem; font-weight: 600; }
      header button { background: none; border: 0; color: #fff; font-size: 1.2rem; cursor: pointer; }
      .status { font-size: .8rem; color: #b42318; padding: .2rem .8rem; min-height: 1rem; }
      .log { flex: 1; overflow-y: auto; padding: .6rem .8rem; display: flex; flex-direction: column; gap: .4rem; }
      .msg { max-width: 80%; padding: .45rem .65rem; border-radius: 10px; white-space: pre-wrap; word-wrap: break-word; }
      .inbound { align-self: flex-end; background: #dbeafe; }
      .outbound { align-self: flex-start; background: #f1f5f9; }
      .who { display: block; font-size: .7rem; color: #616e7c; }
      form { display: flex; flex-direction: column; gap: .3rem; padding: .6rem .8rem; border-top: 1px solid #d9dee4; }
      input, textarea { font: inherit; padding: .4rem; border: 1px solid #d9dee4; border-radius: 6px; }
      textarea { resize: none; height: 3.2rem; }
      .send { background: #1d4ed8; color: #fff; border: 0; border-radius: 6px; padding: .45rem; font: inherit; cursor: pointer; }
      :focus-visible { outline: 3px solid #f59e0b; outline-offset: 1px; }
      .typing { font-size: .8rem; color: #616e7c; padding: 0 .8rem; min-height: 1rem; }
    </style>
    <button class="launcher" type="button" aria-expanded="false">${t.open}</button>
    <section class="panel" role="dialog" aria-label="${t.title}">
      <header><span>${t.title}</span><button type="button" class="close" aria-label="${t.close}">×</button></header>
      <div class="status" role="status" aria-live="polite"></div>
      <div class="log" aria-live="polite"></div>
      <div class="typing" aria-live="polite"></div>
      <form>
        <input name="name" autocomplete="name" aria-label="${t.name}" placeholder="${t.name}">
        <input name="email" type="email" autocomplete="email" aria-label="${t.email}" placeholder="${t.email}">
        <textarea name="text" aria-label="${t.placeholder}" placeholder="${t.placeholder}" maxlength="5000" required></textarea>
        <button class="send" type="submit">${t.send}</button>
      </form>
    </section>`;
  const $ = (selector) => root.querySelector(selector);
  const panel = $(".panel"), launcher = $(".launcher"), log = $(".log"), form = $("form");

  function toggle(open) {
    panel.classList.toggle("open", open);
    launcher.style.display = open ? "none" : "";
    launcher.setAttribute("aria-expanded", String(open));
    if (open) form.text.focus(); else launcher.focus();
  }
  launcher.addEventListener("click", () => toggle(true));
  $(".close").addEventListener("click", () => toggle(false));

  function render(message) {
    if (shown.has(message.id)) return;
    shown.add(message.id);
    const item = document.createElement("div");
    item.className = `msg ${message.direction}`;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = message.direction === "inbound" ? t.you : (message.author_name || "");
    item.append(who, document.createTextNode(message.body_text));
    log.append(item);
    log.scrollTop = log.scrollHeight;
  }

  let socket = null, retry = 0, typingTimer = null;
  function connect() {
    const url = `${hub.replace(/^http/, "ws")}/ws/chat/${encodeURIComponent(inboxKey)}/` +
      (state.token ? `?token=${encodeURIComponent(state.token)}` : "");
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      retry = 0;
      $(".status").textContent = "";
      socket.send(JSON.stringify({ action: "resume", since: state.lastId || 0 }));
      for (const frame of pending.values()) socket.send(JSON.stringify(frame));
    });
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "session") {
        if (frame.data.token !== state.token) {
          state.token = frame.data.token;
          state.firstId = 0;
          state.lastId = frame.id; // a new visitor has no history to replay
        }
        save();
        return;
      }
      if (typeof frame.id === "number" && frame.id > state.lastId) {
        state.lastId = frame.id;
        if (!state.firstId) { state.firstId = frame.id; save(); }
      }
      if (frame.type === "message.created") {
        render(frame.data.message);
        $(".typing").textContent = "";
      } else if (frame.type === "typing") {
        $(".typing").textContent = frame.data.typing ? `${frame.data.name || ""} ${t.typing}` : "";
      } else if (frame.type === "ack") {
        // Stored by the hub: no need to resend it after a reconnect.
        pending.delete(frame.data.client_id);
      } else if (frame.type === "error") {
        $(".status").textContent = frame.data.message;
      }
    });
    socket.addEventListener("close", () => {
      $(".status").textContent = t.offline;
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * 2 ** retry);
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = form.text.value.trim();
    if (!text) return;
    const clientId = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());
    const frame = { action: "send", text, name: form.name.value, email: form.email.value, client_id: clientId };
    pending.set(clientId, frame);
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
    form.text.value = "";
  });
  form.text.addEventListener("input", () => {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (!typingTimer) socket.send(JSON.stringify({ action: "typing", typing: true }));
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      typingTimer = null;
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ action: "typing", typing: false }));
    }, 2000);
  });
  form.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  (document.body ? Promise.resolve() : new Promise((r) => addEventListener("DOMContentLoaded", r))).then(() => {
    document.body.append(host);
    connect();
  });
})();
