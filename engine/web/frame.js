// Parley chat frame (the widget's iframe). The token lives in memory only. Answers render
// through a Markdown subset that builds nodes and text: nothing from a model or a document is
// ever parsed as HTML. Every refusal is shown: never silence, never an endless spinner.
"use strict";

(() => {
  const RESUME_KEY = "parley.resume";
  const RENEW_BEFORE_S = 60;
  const MIN_RENEW_DELAY_MS = 10000; // so a wrong expiry cannot make renewal a loop
  const WATCHDOG_MS = 60000; // this long without a stream event: the answer is lost
  const HEX_COLOUR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

  const TEXT = {
    quota: "This assistant has reached its usage limit. Please try again later.",
    busy: "Please wait for the current answer to finish.",
    ended: "This chat session has ended. Reload the page to start a new one.",
    unavailable: "The assistant is unavailable right now. Please try again shortly.",
    lost: "The connection to the assistant was lost.",
    reconnecting: "Reconnecting…",
  };

  const byId = (id) => document.getElementById(id);
  const ui = {
    title: byId("title"),
    close: byId("close"),
    log: byId("log"),
    status: byId("status"),
    form: byId("composer"),
    input: byId("input"),
    send: byId("send"),
  };
  const params = new URLSearchParams(location.search);
  // Checked by the engine, enforced by the CSP's frame-ancestors.
  const hostOrigin = params.get("origin");
  const customTitle = (params.get("title") || "").trim();

  // HTTP

  class Refusal extends Error {
    constructor(response) {
      super("HTTP " + response.status);
      this.response = response;
    }
  }

  async function request(method, path, body, token) {
    const headers = {};
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
    const data = await res.json().catch(() => null);
    return { ok: res.ok, status: res.status, headers: res.headers, data };
  }

  function parseJson(text) {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }

  // Session

  const session = { token: null, resume: null, renewTimer: 0 };
  let starting = null; // the bootstrap, pending or succeeded
  let renewing = null;

  // Storage (partitioned by host site) may throw when blocked: a reload then starts afresh.
  function loadResume() {
    try {
      return localStorage.getItem(RESUME_KEY);
    } catch {
      return null;
    }
  }

  function storeResume(value) {
    try {
      if (value) localStorage.setItem(RESUME_KEY, value);
      else localStorage.removeItem(RESUME_KEY);
    } catch {} // blocked: memory only
  }

  function postSession(body) {
    return request("POST", "/widget/v1/session", body);
  }

  function adoptSession(res) {
    const granted = res.data;
    session.token = granted.token;
    if (granted.resume) session.resume = granted.resume;
    storeResume(session.resume);
    scheduleRenewal(granted.expires_at, res.headers.get("Date"));
  }

  // By the server's clock (Date), not the visitor's. A failed renewal waits for the next 401.
  function scheduleRenewal(expiresAt, serverDate) {
    clearTimeout(session.renewTimer);
    if (!Number.isFinite(expiresAt)) return;
    const now = Date.parse(serverDate || "") || Date.now();
    const delay = Math.max(MIN_RENEW_DELAY_MS, (expiresAt - RENEW_BEFORE_S) * 1000 - now);
    session.renewTimer = setTimeout(renew, delay);
  }

  // Resolves to true with a fresh token.
  function renew() {
    if (!session.resume) return Promise.resolve(false);
    renewing = renewing || postSession({ resume: session.resume })
      .then((res) => {
        if (!res.ok || !res.data || !res.data.token) return false;
        adoptSession(res);
        return true;
      }, () => false)
      .finally(() => { renewing = null; });
    return renewing;
  }

  // A 401 (expired token, rotated key) renews once and retries once.
  async function authorized(method, path, body) {
    const res = await request(method, path, body, session.token);
    if (res.status !== 401 || !(await renew())) return res;
    return request(method, path, body, session.token);
  }

  async function bootstrap() {
    const ticket = document.body.dataset.ticket;
    const stored = loadResume();
    let res = await postSession(stored ? { ticket, resume: stored } : { ticket });
    // A stored credential refused (expired, another agent's): start afresh.
    if (stored && res.status >= 400 && res.status < 500 && res.status !== 429) {
      storeResume(null);
      res = await postSession({ ticket });
    }
    if (!res.ok || !res.data || !res.data.token) throw new Refusal(res);
    adoptSession(res);
    showAgent(res.data.agent);
    if (res.data.resumed) await loadHistory().catch(report);
  }

  // Shared by every caller; after a failure the next one tries again.
  function ensureSession() {
    starting = starting || bootstrap().catch((err) => {
      starting = null;
      throw err;
    });
    return starting;
  }

  async function loadHistory() {
    const res = await authorized("GET", "/widget/v1/history");
    if (!res.ok) throw new Refusal(res);
    const earlier = document.createDocumentFragment();
    for (const m of (res.data && res.data.messages) || []) {
      if (m.role === "user") appendUser(m.content, earlier);
      else if (m.role === "assistant") appendFinishedAnswer(m.content, m.citations, earlier);
    }
    // After the greeting, before any message sent while this loaded.
    const greeting = document.querySelector(".greeting");
    ui.log.insertBefore(earlier, greeting ? greeting.nextSibling : ui.log.firstChild);
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  // Refusals and notices

  // Retry-After in seconds, as the edge sends it.
  function rateLimitedText(retryAfter) {
    const n = Math.max(1, Number(retryAfter));
    const when = /^\d+$/.test(retryAfter) ? `in ${n} second${n === 1 ? "" : "s"}` : "in a moment";
    return `You're sending messages too quickly. Try again ${when}.`;
  }

  function refusalText({ status, headers, data }) {
    const error = (data && data.error) || {};
    const serverMessage = typeof error.message === "string" && error.message;
    if (status === 429 && error.code === "insufficient_quota") return TEXT.quota;
    if (status === 429) return rateLimitedText(headers.get("Retry-After"));
    if (status === 409 && error.code === "generation_in_progress") return TEXT.busy;
    if (status === 401 || status === 403) return TEXT.ended;
    if (status >= 400 && status < 500 && serverMessage) return serverMessage;
    return TEXT.unavailable;
  }

  function describe(err) {
    return err instanceof Refusal ? refusalText(err.response) : TEXT.unavailable;
  }

  // Transient states: the status region only.
  function say(text) {
    ui.status.textContent = text;
  }

  // Failures: announced by the status region, kept in the log.
  function notify(text) {
    say(text);
    keepingEnd(() => ui.log.append(el("p", "notice", text)));
  }

  function reconnected() {
    if (ui.status.textContent === TEXT.reconnecting) say("");
  }

  function report(err) {
    notify(describe(err));
  }

  // Messages in the log

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Follow new content only if the visitor is at the end, not reading above.
  function keepingEnd(change) {
    const log = ui.log;
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    change();
    if (atEnd) log.scrollTop = log.scrollHeight;
  }

  function appendMessage(role, parent = ui.log) {
    const msg = el("div", "msg " + role);
    msg.append(el("span", "sr-only", role === "user" ? "You:" : "Assistant:"), el("div", "content"));
    parent.append(msg);
    return msg;
  }

  const contentOf = (msg) => msg.querySelector(".content");

  function appendUser(text, parent) {
    const msg = appendMessage("user", parent);
    contentOf(msg).textContent = String(text);
    return msg;
  }

  function appendFinishedAnswer(text, citations, parent) {
    const msg = appendMessage("assistant", parent);
    msg.dataset.state = "done";
    renderMarkdown(contentOf(msg), String(text || ""));
    renderCitations(msg, citations);
  }

  function appendPendingAnswer() {
    const msg = appendMessage("assistant");
    const typing = el("span", "typing");
    typing.append(el("span", "sr-only", "The assistant is typing"), el("span"), el("span"), el("span"));
    contentOf(msg).append(typing);
    msg.dataset.state = "streaming";
    return msg;
  }

  function showAgent(agent) {
    if (!agent) return;
    if (!customTitle && agent.name) ui.title.textContent = document.title = agent.name;
    // The session's agent answers: its greeting wins over the page's.
    const greeting = document.querySelector(".greeting");
    if (!greeting) return;
    if (typeof agent.greeting === "string" && agent.greeting.trim()) {
      contentOf(greeting).replaceChildren(el("p", "", agent.greeting));
    }
    if (!contentOf(greeting).textContent.trim()) greeting.remove();
  }

  // Safe Markdown subset
  // Paragraphs, line breaks, **bold**, *italic*, _italic_, `code`, ``` fences, -/*/1. lists,
  // [text](http(s) URL); the rest literal. Only createElement, textContent and append(string)
  // (a text node) touch the DOM.
  // Groups: 1 code, 2 bold, 3-4 link, 5-6 *italic*, 7-8 _italic_; 5 and 7 match the character
  // before, as Safari < 16.4 cannot parse look-behind.
  const INLINE = new RegExp([
    "`([^`\\n]+)`",
    "\\*\\*(\\S(?:.*?\\S)?)\\*\\*",
    "\\[([^\\]\\n]+)\\]\\(([^()\\s]+)\\)",
    "(^|[^\\w*])\\*([^\\s*](?:[^*]*?[^\\s*])?)\\*(?![\\w*])",
    "(^|[^\\w])_([^\\s_](?:[^_]*?[^\\s_])?)_(?!\\w)",
  ].join("|"), "g");
  const FENCE = /^\s*```/;
  const LIST_ITEM = /^\s*(?:([-*])|(\d{1,9})[.)])\s+(.*)$/;

  const isWebUrl = (value) => typeof value === "string" && /^https?:\/\//i.test(value);

  function link(href, text) {
    const a = el("a", "", text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  function appendText(parent, text) {
    if (text) parent.append(text);
  }

  function inlineNode(m) {
    if (m[1] !== undefined) return el("code", "", m[1]);
    if (m[3] !== undefined) return isWebUrl(m[4]) ? link(m[4], m[3]) : document.createTextNode(m[0]);
    const node = el(m[2] !== undefined ? "strong" : "em");
    appendInline(node, m[2] ?? m[6] ?? m[8]);
    return node;
  }

  function appendInline(parent, text) {
    let at = 0;
    for (const m of text.matchAll(INLINE)) {
      appendText(parent, text.slice(at, m.index) + (m[5] ?? m[7] ?? ""));
      parent.append(inlineNode(m));
      at = m.index + m[0].length;
    }
    appendText(parent, text.slice(at));
  }

  function appendLines(parent, lines) {
    lines.forEach((line, i) => {
      if (i > 0) parent.append(el("br"));
      appendInline(parent, line);
    });
    return parent;
  }

  // Rebuilds from the whole text (a few KB, once a frame); an unclosed fence runs to the end.
  function renderMarkdown(container, source) {
    const out = document.createDocumentFragment();
    const lines = source.replace(/\r\n?/g, "\n").split("\n");
    let paragraph = [];
    let list = null;

    const endParagraph = () => {
      if (paragraph.length) out.append(appendLines(el("p"), paragraph));
      paragraph = [];
    };
    const endBlock = () => {
      endParagraph();
      list = null;
    };

    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (FENCE.test(line)) {
        endBlock();
        const code = [];
        for (i++; i < lines.length && !FENCE.test(lines[i]); i++) code.push(lines[i]);
        out.appendChild(el("pre")).append(el("code", "", code.join("\n")));
        continue;
      }
      const item = LIST_ITEM.exec(line);
      if (item) {
        endParagraph();
        const ordered = item[2] !== undefined;
        if (!list || list.ordered !== ordered) {
          list = { ordered, node: el(ordered ? "ol" : "ul") };
          if (ordered && item[2] !== "1") list.node.start = Number(item[2]);
          out.append(list.node);
        }
        list.node.append(appendLines(el("li"), [item[3]]));
      } else if (!line.trim()) {
        endBlock();
      } else if (list && /^\s/.test(line)) {
        // indented: continues the item
        appendLines(list.node.lastChild, ["", line.trim()]);
      } else {
        list = null;
        paragraph.push(line);
      }
    }
    endBlock();
    container.replaceChildren(out);
  }

  // A source is its title; its excerpt (and link) open on demand, so that the
  // answer, not its sources, fills the frame.
  function citationItem(c) {
    const item = el("li");
    if (Number.isInteger(c.index)) item.value = c.index;
    const more = el("details");
    more.append(el("summary", "source", String(c.title || c.source_uri || "Document")));
    const where = [];
    if (c.section) where.push(String(c.section));
    if (Number.isInteger(c.page) && c.page > 0) where.push("page " + c.page);
    if (where.length) more.append(el("p", "where", where.join(" \u00b7 ")));
    if (c.snippet) more.append(el("p", "snippet", String(c.snippet)));
    if (isWebUrl(c.source_uri)) more.append(link(c.source_uri, "Open the source"));
    item.append(more);
    return item;
  }

  function renderCitations(msg, citations) {
    if (!Array.isArray(citations) || citations.length === 0) return;
    const section = el("section", "citations");
    const list = el("ol");
    for (const c of citations) if (c && typeof c === "object") list.append(citationItem(c));
    section.append(el("p", "citations-title", "Sources"), list);
    msg.append(section);
  }

  // Sending and streaming

  // Resolves when the answer is done or failed (shown either way); never rejects.
  function streamAnswer(streamId, msg) {
    return new Promise((resolve) => {
      const content = contentOf(msg);
      const source = new EventSource("/widget/v1/streams/" + encodeURIComponent(streamId));
      let text = "";
      let frame = 0; // requestAnimationFrame pending: one render per frame, not per token
      let watchdog = 0;

      const render = () => {
        frame = 0;
        keepingEnd(() => renderMarkdown(content, text));
      };
      const rearmWatchdog = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => finish("error", TEXT.lost), WATCHDOG_MS);
      };

      // Renders now: a hidden iframe gets no animation frames.
      function finish(state, message) {
        if (msg.dataset.state !== "streaming") return;
        source.close();
        clearTimeout(watchdog);
        cancelAnimationFrame(frame);
        render();
        msg.dataset.state = state;
        ui.log.removeAttribute("aria-busy");
        if (message) notify(message);
        else reconnected();
        resolve();
      }

      function on(type, handle) {
        source.addEventListener(type, (event) => {
          rearmWatchdog();
          handle(parseJson(event.data));
        });
      }

      on("token", (data) => {
        if (!data || typeof data.delta !== "string") return;
        text += data.delta;
        frame = frame || requestAnimationFrame(render);
      });
      on("citations", (list) => keepingEnd(() => renderCitations(msg, list)));
      on("done", () => finish("done"));
      // The server's `event: error` (with data) or a drop, after which the browser reconnects
      // with Last-Event-ID while CONNECTING; CLOSED means it gave up.
      source.addEventListener("error", (event) => {
        if (typeof event.data === "string") {
          const data = parseJson(event.data);
          // Over budget: a visitor reads the same words as when the question itself was refused.
          const quota = data && data.code === "insufficient_quota";
          finish("error", quota ? TEXT.quota
                                : (data && typeof data.message === "string" && data.message) || TEXT.unavailable);
        } else if (source.readyState === EventSource.CLOSED) {
          finish("error", TEXT.lost);
        } else {
          say(TEXT.reconnecting);
        }
      });
      source.addEventListener("open", reconnected);

      // Announce the whole answer, not each token.
      ui.log.setAttribute("aria-busy", "true");
      rearmWatchdog();
    });
  }

  async function send(text) {
    const question = appendUser(text);
    const answer = appendPendingAnswer();
    ui.log.scrollTop = ui.log.scrollHeight;
    try {
      await ensureSession();
      const res = await authorized("POST", "/widget/v1/messages", { content: text });
      if (!res.ok || !res.data || !res.data.stream_id) throw new Refusal(res);
      await streamAnswer(res.data.stream_id, answer);
    } catch (err) {
      answer.remove();
      question.dataset.state = "failed";
      // Give the text back to resend without retyping.
      if (!ui.input.value) ui.input.value = text;
      report(err);
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    const text = ui.input.value.trim();
    if (!text || ui.send.disabled) return;
    ui.send.disabled = true;
    if (document.activeElement === ui.send) ui.input.focus();
    ui.input.value = "";
    say("");
    try {
      await send(text);
    } finally {
      ui.send.disabled = false;
    }
  }

  // Wiring

  function closeWidget() {
    if (hostOrigin && window.parent !== window) {
      window.parent.postMessage({ type: "parley:close" }, hostOrigin);
    }
  }

  function applyLook() {
    const accent = params.get("accent");
    if (accent && HEX_COLOUR.test(accent)) {
      document.documentElement.style.setProperty("--accent", accent);
    }
    if (customTitle) ui.title.textContent = document.title = customTitle;
  }

  function start() {
    applyLook();
    ui.form.addEventListener("submit", onSubmit);
    ui.input.addEventListener("keydown", (event) => {
      // Shift+Enter is a new line; Enter ending an IME composition is not a send.
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      ui.send.click(); // does nothing while the button is disabled
    });
    ui.close.addEventListener("click", closeWidget);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !event.isComposing) closeWidget();
    });
    window.addEventListener("message", (event) => {
      if (event.source !== window.parent || !event.data) return;
      if (event.data.type === "parley:focus") ui.input.focus();
    });
    ui.send.disabled = false; // the page ships it disabled until this runs
    ensureSession().catch(report);
  }

  start();
})();
