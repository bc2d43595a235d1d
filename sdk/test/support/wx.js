"use strict";
// A `wx` object for the tests: the documented mini-program API shape (miniprogram-api-typings) implemented
// over real sockets (the `ws` package) and real HTTP, plus the test's hands on the app and the network:
// $hide()/$show() (onAppHide/onAppShow), $network(bool) (onNetworkStatusChange; down = every socket and
// request cut), $kill() (the process dies: sockets cut, nothing more stored, nothing more heard), $freeze()
// (the process stops, its sockets not yet cut), $stall(bool) (frames vanish both ways, sockets stay open).
const http = require("http");
const fs = require("fs");
const path = require("path");
const WebSocket = require("ws");

// storage: a Map shared between "runs" of the app (what survives a kill); values are copied as wx does.
function createWx({ storage = new Map() } = {}) {
  const listeners = { show: [], hide: [], network: [] };
  const sockets = new Set();
  const requests = new Set();
  let connected = true;
  let dead = false;
  let stalled = false;  // a black hole: sockets stay open, frames go nowhere either way
  const copy = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));
  const later = (fn) => setTimeout(() => { if (!dead) fn(); }, 0);

  const connects = [];  // every connectSocket call's {url, header}

  /** @param {WechatMiniprogram.ConnectSocketOption} option */
  function connectSocket({ url, header = {}, success, fail }) {
    connects.push({ url, header });
    const handlers = { open: [], message: [], close: [], error: [] };
    const fire = (name, arg) => { if (!dead) handlers[name].slice().forEach((fn) => fn(arg)); };
    let ws = null;
    let closed = false;
    const finish = (code, reason) => {
      if (closed) return;
      closed = true;
      sockets.delete(task);
      fire("close", { code, reason });
    };
    const task = {
      onOpen: (fn) => handlers.open.push(fn),
      onMessage: (fn) => handlers.message.push(fn),
      onClose: (fn) => handlers.close.push(fn),
      onError: (fn) => handlers.error.push(fn),
      send({ data, success: ok, fail: bad }) {
        if (stalled) return;
        if (!ws || ws.readyState !== WebSocket.OPEN || !connected || dead) {
          if (bad) bad({ errMsg: "sendSocketMessage:fail WebSocket is not connected" });
          return;
        }
        ws.send(data, (err) => (err ? bad && bad({ errMsg: String(err) }) : ok && ok({ errMsg: "sendSocketMessage:ok" })));
      },
      close({ code = 1000, reason = "" } = {}) {
        if (!ws) return;
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(code, reason);
      },
      $cut() {  // the network under this socket is gone
        if (ws) ws.terminate();
        later(() => { fire("error", { errMsg: "network down" }); finish(1006, "network down"); });
      },
    };
    sockets.add(task);
    if (!connected || dead) {
      later(() => { if (fail) fail({ errMsg: "connectSocket:fail network down" }); fire("error", { errMsg: "network down" }); finish(1006, ""); });
      return task;
    }
    ws = new WebSocket(url, { headers: header });
    ws.on("open", () => fire("open", { header: {} }));
    ws.on("message", (data) => { if (connected && !stalled) fire("message", { data: data.toString() }); });
    ws.on("close", (code, reason) => finish(code, reason.toString()));
    ws.on("error", (err) => fire("error", { errMsg: String(err) }));
    if (success) later(() => success({ errMsg: "connectSocket:ok" }));
    return task;
  }

  function send(method, url, headers, body, done) {
    if (!connected || dead) {
      later(() => done(null, "request:fail network down"));
      return;
    }
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => { requests.delete(req); if (!dead) done({ statusCode: res.statusCode, header: res.headers, text: Buffer.concat(chunks).toString("utf8") }); });
    });
    req.on("error", (err) => { requests.delete(req); if (!dead) done(null, `request:fail ${err.message}`); });
    requests.add(req);
    req.end(body);
  }

  /** @param {WechatMiniprogram.RequestOption} option */
  function request({ url, method = "GET", data, header = {}, dataType = "json", success, fail, complete }) {
    let target = url;
    let body;
    const headers = Object.assign({}, header);
    if (method === "GET" && data && typeof data === "object") {
      const q = Object.keys(data).map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(data[k])}`).join("&");
      if (q) target += (url.includes("?") ? "&" : "?") + q;
    } else if (data !== undefined) {
      body = typeof data === "string" ? data : JSON.stringify(data);
      if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) headers["Content-Type"] = "application/json";
    }
    send(method, target, headers, body, (res, errMsg) => {
      if (!res) {
        if (fail) fail({ errMsg });
      } else {
        let out = res.text;
        if (dataType === "json") { try { out = JSON.parse(res.text); } catch (err) { /* kept as text */ } }
        if (success) success({ data: out, statusCode: res.statusCode, header: res.header, errMsg: "request:ok" });
      }
      if (complete) complete({});
    });
    return { abort() {}, onHeadersReceived() {}, offHeadersReceived() {}, onChunkReceived() {}, offChunkReceived() {} };
  }

  /** @param {WechatMiniprogram.UploadFileOption} option */
  function uploadFile({ url, filePath, name, header = {}, formData = {}, success, fail }) {
    const boundary = `----wx${Date.now().toString(16)}`;
    const parts = [];
    for (const key of Object.keys(formData)) {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${formData[key]}\r\n`));
    }
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${path.basename(filePath)}"\r\n` +
                           "Content-Type: application/octet-stream\r\n\r\n"));
    parts.push(fs.readFileSync(filePath), Buffer.from(`\r\n--${boundary}--\r\n`));
    const headers = Object.assign({}, header, { "Content-Type": `multipart/form-data; boundary=${boundary}` });
    send("POST", url, headers, Buffer.concat(parts), (res, errMsg) => {
      if (!res) { if (fail) fail({ errMsg }); return; }
      if (success) success({ data: res.text, statusCode: res.statusCode, errMsg: "uploadFile:ok" });  // a string, as in wx
    });
    return { abort() {}, onProgressUpdate() {}, offProgressUpdate() {}, onHeadersReceived() {}, offHeadersReceived() {} };
  }

  const on = (name) => (fn) => listeners[name].push(fn);
  const off = (name) => (fn) => { listeners[name] = listeners[name].filter((f) => f !== fn); };
  const tell = (name, arg) => listeners[name].slice().forEach((fn) => fn(arg));

  return {
    connectSocket,
    request,
    uploadFile,
    getStorageSync: (key) => (storage.has(key) ? copy(storage.get(key)) : ""),
    setStorageSync: (key, value) => { if (!dead) storage.set(key, copy(value)); },
    removeStorageSync: (key) => { if (!dead) storage.delete(key); },
    onAppShow: on("show"),
    offAppShow: off("show"),
    onAppHide: on("hide"),
    offAppHide: off("hide"),
    onNetworkStatusChange: on("network"),
    offNetworkStatusChange: off("network"),
    getNetworkType: ({ success }) => later(() => success({ networkType: connected ? "wifi" : "none" })),
    $hide: () => tell("hide", {}),
    $show: () => tell("show", { path: "pages/index/index", scene: 1001, query: {} }),
    $network(up) {
      if (up === connected) return;
      connected = up;
      if (!up) {
        for (const task of Array.from(sockets)) task.$cut();
        for (const req of Array.from(requests)) req.destroy(new Error("network down"));
      }
      tell("network", { isConnected: up, networkType: up ? "wifi" : "none" });
    },
    $stall(on) {  // the connection goes silent without closing (a half-open TCP connection)
      stalled = on;
    },
    $freeze() {  // the process stops (nothing more heard or stored); its sockets stay up until $kill()
      dead = true;
    },
    $kill() {
      for (const task of Array.from(sockets)) task.$cut();
      for (const req of Array.from(requests)) req.destroy(new Error("killed"));
      dead = true;
    },
    $openSockets: () => sockets.size,
    $connects: connects,
  };
}

module.exports = { createWx };
