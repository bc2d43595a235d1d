"use strict";
// The browser adapter: WebSocket (no headers: a single-use ticket, or access_token while the server has no
// ticket route), fetch, localStorage, the page's visibility and the online/offline events.
const { Client } = require("../core/client.js");

function browserPlatform(win, storage) {
  const doc = win.document;
  return {
    name: "browser",
    socketHeaders: false,
    wsUrl(base) {
      if (base) return `${base.replace(/^http/, "ws")}/ws`;
      return `${win.location.protocol === "https:" ? "wss:" : "ws:"}//${win.location.host}/ws`;
    },
    isOnline: () => win.navigator.onLine !== false,
    openSocket(url, _headers, on) {
      const ws = new win.WebSocket(url);
      ws.onopen = () => on.open();
      ws.onmessage = (e) => on.message(e.data);
      ws.onclose = (e) => on.close(e.code, e.reason);
      ws.onerror = () => {};  // always followed by close
      return {
        send: (text) => ws.send(text),
        close: (code) => {
          ws.onmessage = ws.onclose = null;
          ws.close(code);
        },
      };
    },
    async request({ method, url, headers, json }) {
      try {
        const response = await win.fetch(url, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
        const data = response.status === 204 ? null : await response.json().catch(() => null);
        return { status: response.status, data };
      } catch (err) {
        return { status: 0, data: null, error: String(err) };
      }
    },
    // file: a File or Blob (an <input type=file>'s).
    async upload({ url, headers, file }) {
      const form = new win.FormData();
      form.append("file", file);
      try {
        const response = await win.fetch(url, { method: "POST", headers, body: form });
        return { status: response.status, data: await response.json().catch(() => null) };
      } catch (err) {
        return { status: 0, data: null, error: String(err) };
      }
    },
    storage: {
      get: (key) => {
        const raw = storage.getItem(key);
        return raw === null ? null : JSON.parse(raw);
      },
      set: (key, value) => storage.setItem(key, JSON.stringify(value)),
      remove: (key) => storage.removeItem(key),
    },
    onShow(fn) {
      const listener = () => { if (doc.visibilityState === "visible") fn(); };
      doc.addEventListener("visibilitychange", listener);
      return () => doc.removeEventListener("visibilitychange", listener);
    },
    onHide(fn) {
      const listener = () => { if (doc.visibilityState === "hidden") fn(); };
      doc.addEventListener("visibilitychange", listener);
      return () => doc.removeEventListener("visibilitychange", listener);
    },
    onNetwork(fn) {
      const up = () => fn(true);
      const down = () => fn(false);
      win.addEventListener("online", up);
      win.addEventListener("offline", down);
      return () => {
        win.removeEventListener("online", up);
        win.removeEventListener("offline", down);
      };
    },
  };
}

// options: {baseUrl?, storage? (default localStorage), hideGraceMs? (default null: a tab keeps its socket)}.
function createClient(options = {}) {
  const win = options.window || globalThis;
  const platform = browserPlatform(win, options.storage || win.localStorage);
  return new Client(platform, Object.assign({}, options, { window: undefined, storage: undefined }));
}

module.exports = { createClient, browserPlatform };
