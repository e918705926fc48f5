// Parley chat widget loader. A tenant adds exactly:
//   <script src="https://chat.operator.example/widget.js" data-site-key="pk_…" async></script>
//
//   data-site-key  required: the publishable key (missing: one console warning, nothing shown)
//   data-agent     agent code (default: the tenant's default agent)
//   data-position  "bottom-right" (default) | "bottom-left"
//   data-accent    "#rgb" | "#rrggbb" (else the default); the launcher's icon is white on it
//   data-title     the chat's title, also ends the launcher's accessible name (default "Chat")
//   data-open      "true": open on load, without taking the focus
//
// Adds a <parley-widget> holding the launcher and, once opened, the chat's iframe in an open
// shadow root (a closed one protects nothing from page scripts, which share our realm, and hides
// the launcher from assistive tools and tests). Styles are an adopted sheet, which a CSP without
// 'unsafe-inline' allows; `:host { all: initial !important }` beats even `* {… !important}`.
"use strict";

(() => {
  const DEFAULT_ACCENT = "#1f5fbf";
  const DEFAULT_TITLE = "Chat";
  const HEX_COLOUR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const CHAT_ICON = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z";
  const CLOSE_ICON = "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z";

  // `accent` passed HEX_COLOUR: it cannot break out of its declaration.
  function stylesFor(accent) {
    return `
:host { all: initial !important; --accent: ${accent}; }
[hidden] { display: none !important; }
.launcher {
  position: fixed; z-index: 2147483647; bottom: 20px; right: 20px;
  box-sizing: border-box; width: 56px; height: 56px; margin: 0; padding: 0;
  display: grid; place-items: center; border: 0; border-radius: 50%;
  background: var(--accent); color: #fff; cursor: pointer;
  box-shadow: 0 4px 14px rgba(0, 0, 0, .25);
}
.launcher svg { width: 28px; height: 28px; fill: currentColor; }
.launcher[aria-expanded="true"] .icon-open, .launcher[aria-expanded="false"] .icon-close { display: none; }
.launcher:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; box-shadow: 0 0 0 2px #fff; }
.panel {
  position: fixed; z-index: 2147483647; bottom: 88px; right: 20px;
  box-sizing: border-box; display: block; width: 380px; height: 600px;
  max-width: calc(100vw - 40px); max-height: calc(100vh - 108px);
  margin: 0; padding: 0; border: 0; border-radius: 12px; background: #fff;
  box-shadow: 0 8px 32px rgba(0, 0, 0, .3);
}
:host([data-position="bottom-left"]) .launcher, :host([data-position="bottom-left"]) .panel { right: auto; left: 20px; }
@media (max-width: 480px) {
  .panel, :host([data-position]) .panel { inset: 0; width: 100vw; height: 100vh; height: 100dvh; max-width: none; max-height: none; border-radius: 0; }
  .launcher[aria-expanded="true"] { display: none; }
}
@media (prefers-reduced-motion: no-preference) {
  .panel { animation: parley-open .18s ease-out; }
  @keyframes parley-open { from { opacity: 0; transform: translateY(12px); } }
}`;
  }

  function readOptions(script) {
    const data = script.dataset;
    return {
      siteKey: data.siteKey,
      agent: data.agent || "",
      left: data.position === "bottom-left",
      accent: HEX_COLOUR.test(data.accent || "") ? data.accent : DEFAULT_ACCENT,
      title: (data.title || "").trim() || DEFAULT_TITLE,
      openOnLoad: data.open === "true",
    };
  }

  function frameUrl(base, options) {
    const enc = encodeURIComponent;
    return base + "/widget/v1/frame?site_key=" + enc(options.siteKey) +
      "&origin=" + enc(location.origin) +
      (options.agent ? "&agent=" + enc(options.agent) : "") +
      "&accent=" + enc(options.accent) +
      // without a title of the tenant's, the frame shows the agent's name
      (options.title === DEFAULT_TITLE ? "" : "&title=" + enc(options.title));
  }

  // "Open chat", or "Open chat: <title>" under a tenant's title.
  function named(prefix, title) {
    return title === DEFAULT_TITLE ? prefix : prefix + ": " + title;
  }

  function adoptStyles(root, css) {
    if ("adoptedStyleSheets" in root && "replaceSync" in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
    } else {
      // Safari < 16.4: <style>, fine where the page's CSP allows inline styles.
      const style = document.createElement("style");
      style.textContent = css;
      root.append(style);
    }
  }

  function icon(path, className) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", className);
    const shape = document.createElementNS(SVG_NS, "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  }

  function makeLauncher(title) {
    const button = document.createElement("button");
    button.type = "button";
    button.id = "parley-launcher";
    button.className = "launcher";
    // One name in both states: aria-expanded tells them apart.
    button.setAttribute("aria-label", named("Open chat", title));
    button.setAttribute("aria-expanded", "false");
    button.append(icon(CHAT_ICON, "icon-open"), icon(CLOSE_ICON, "icon-close"));
    return button;
  }

  function makeFrame(src, title) {
    const frame = document.createElement("iframe");
    frame.id = "parley-frame";
    frame.className = "panel";
    frame.title = named("Chat", title);
    frame.src = src;
    return frame;
  }

  function mount(base, options) {
    if (document.querySelector("parley-widget")) return; // the tag twice: one launcher

    const host = document.createElement("parley-widget");
    if (options.left) host.setAttribute("data-position", "bottom-left");
    const root = host.attachShadow({ mode: "open" });
    adoptStyles(root, stylesFor(options.accent));
    const launcher = makeLauncher(options.title);
    root.append(launcher);
    document.body.append(host);

    let frame = null;
    let frameLoaded = false;
    let focusOnLoad = false;

    const isOpen = () => launcher.getAttribute("aria-expanded") === "true";

    // Before its first load the frame is about:blank and drops messages: `load` sends it.
    function focusFrame() {
      frame.focus();
      if (frameLoaded) frame.contentWindow.postMessage({ type: "parley:focus" }, base);
      else focusOnLoad = true;
    }

    function createFrame() {
      frame = makeFrame(frameUrl(base, options), options.title);
      frame.addEventListener("load", () => {
        frameLoaded = true;
        if (focusOnLoad && isOpen()) focusFrame();
        focusOnLoad = false;
      });
      root.append(frame);
      launcher.setAttribute("aria-controls", frame.id);
    }

    function open(takeFocus) {
      if (!frame) createFrame();
      frame.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      if (takeFocus) focusFrame();
    }

    // Hidden, the frame keeps its conversation for the next opening.
    function close() {
      if (!isOpen()) return;
      frame.hidden = true;
      focusOnLoad = false;
      launcher.setAttribute("aria-expanded", "false");
      // An Escape typed in the frame escapes this page's :focus-visible heuristics.
      launcher.focus({ focusVisible: true });
    }

    launcher.addEventListener("click", () => (isOpen() ? close() : open(true)));

    // Keys inside the frame stay there (it handles its own Escape).
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && isOpen()) close();
    });

    window.addEventListener("message", (event) => {
      if (!frame || event.source !== frame.contentWindow || event.origin !== base) return;
      if (event.data && event.data.type === "parley:close") close();
    });

    if (options.openOnLoad) open(false); // a page that just loaded keeps its focus
  }

  function start() {
    // currentScript exists only now (and not always for async scripts): the tag is the fallback.
    const script = document.currentScript ||
      document.querySelector('script[data-site-key][src$="/widget.js"]');
    if (!script || !script.dataset.siteKey) {
      console.warn("Parley widget: the <script> tag has no data-site-key attribute, so no chat is shown.");
      return;
    }
    const base = new URL(script.src).origin;
    const options = readOptions(script);
    const go = () => mount(base, options);
    // An async script can run before <body> exists.
    if (document.body) go();
    else document.addEventListener("DOMContentLoaded", go, { once: true });
  }

  start();
})();
