"use strict";
// The Node adapter (bots, scripts, tests): the `ws` package, fetch (Node 18+), storage in memory or a JSON file.
const fs = require("fs");
const path = require("path");
const { Client } = require("../core/client.js");

function memoryStorage(map = new Map()) {
  return {
    get: (key) => (map.has(key) ? JSON.parse(map.get(key)) : null),
    set: (key, value) => map.set(key, JSON.stringify(value)),
    remove: (key) => map.delete(key),
  };
}

// Every write goes to the file at once (a killed process keeps what it stored).
function fileStorage(file) {
  let data = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8") || "{}") : {};
  const save = () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(data));
    fs.renameSync(`${file}.tmp`, file);
  };
  return {
    get: (key) => (key in data ? data[key] : null),
    set: (key, value) => { data = Object.assign({}, data, { [key]: value }); save(); },
    remove: (key) => { if (key in data) { delete data[key]; save(); } },
  };
}

function nodePlatform(storage) {
  const WebSocket = require("ws");  // eslint-disable-line global-require
  return {
    name: "node",
    socketHeaders: true,
    wsUrl: (base) => `${base.replace(/^http/, "ws")}/ws`,
    openSocket(url, headers, on) {
      const ws = new WebSocket(url, { headers });
      ws.on("open", () => on.open());
      ws.on("message", (data) => on.message(data.toString()));
      ws.on("close", (code, reason) => on.close(code, reason.toString()));
      ws.on("error", () => {});  // followed by close
      return {
        send: (text) => ws.send(text),
        close: (code) => (ws.readyState === WebSocket.CONNECTING ? ws.terminate() : ws.close(code)),
      };
    },
    async request({ method, url, headers, json }) {
      try {
        const response = await fetch(url, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
        const text = await response.text();
        return { status: response.status, data: text ? JSON.parse(text) : null };
      } catch (err) {
        return { status: 0, data: null, error: String(err) };
      }
    },
    // file: a path on disk.
    async upload({ url, headers, file }) {
      const form = new FormData();
      form.append("file", new Blob([fs.readFileSync(file)]), path.basename(file));
      try {
        const response = await fetch(url, { method: "POST", headers, body: form });
        return { status: response.status, data: await response.json().catch(() => null) };
      } catch (err) {
        return { status: 0, data: null, error: String(err) };
      }
    },
    storage,
    onShow: () => () => {},
    onHide: () => () => {},
    onNetwork: () => () => {},
  };
}

// options: {baseUrl (required: "http://host:port"), storage? (memoryStorage() or fileStorage(path))}.
function createClient(options = {}) {
  const platform = nodePlatform(options.storage || memoryStorage());
  return new Client(platform, Object.assign({}, options, { storage: undefined }));
}

module.exports = { createClient, memoryStorage, fileStorage, nodePlatform };
