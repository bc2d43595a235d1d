// paipai-chat.js — the reference client of PaiPai's chat WebSocket `/ws`.
//
// One ES module with no dependencies and no DOM code: the mini-program team can port it line by line
// (swap `WebSocket` for `wx.connectSocket` and `localStorage` for `wx.setStorageSync`).
//
// The protocol in one page (API.md, "WebSocket /ws", is the contract):
//
//   connect   POST /api/v1/ws/ticket (Authorization: Bearer TOKEN) → {"ticket"}, then
//             ws(s)://HOST/ws?ticket=TICKET (single use, 30 s); wx.connectSocket can send the
//             `Authorization: Bearer` header instead. Never put the token itself in the URL.
//   server →  {"op":"hello","user_id","server_time","heartbeat_s","cursor"}       always first
//   client →  {"op":"sync","cursor": <last cursor kept> | null}
//   server →  {"op":"message","message":{...},"cursor":"..."}  ... every missed message, in order
//   server →  {"op":"synced","cursor":"...","more":true}       a long replay comes in batches:
//   client →  {"op":"sync","cursor": <that cursor>}            ask again until ...
//   server →  {"op":"synced","cursor":"...","more":false}      ... caught up; live from here on
//   server →  {"op":"message",...,"cursor"}    live messages of your item/direct chats (your own too,
//                                              from your other devices); room messages carry no cursor
//   client →  {"op":"send","client_id","group_id","type","body","ext"?}
//   server →  {"op":"ack","client_id","message":{...},"cursor":"..."}   stored: it has a seq now
//   server →  {"op":"error","client_id"?,"error":{"code","message"}}    a bad frame or a refused send;
//                                                                        the socket stays open
//   client →  {"op":"read","group_id","seq"}   move your read marker (unread badges clear)
//   client →  {"op":"typing","group_id"}
//   client →  {"op":"ping"}  →  server {"op":"pong"}                    application heartbeat
//   server →  {"op":"event","type":"read"|"typing"|"presence"|"recall"|"listing"|...,"data":{...}}
//
// Close codes: 4401 the token is bad, expired or revoked (log in again; do not reconnect),
// 4403 the user is banned (do not reconnect), 1001 the server is going away (reconnect at once,
// another process will take you), 1013 try again later (reconnect with backoff). Anything else,
// or the network dropping: reconnect with backoff.
//
// The promise the server makes: a client that keeps the LAST CURSOR IT SAW and reconnects with
// `sync` gets every message it missed exactly once, in seq order per group. So this client:
//   1. saves the cursor of every message/ack/synced frame, in storage, as soon as it has handled it;
//   2. still dedupes by (group_id, seq), because REST history and the socket can show the same message;
//   3. keeps every send until its `ack` (in storage too) and resends it with the SAME client_id after a
//      reconnect: the server answers a repeated client_id with the first message, never a second copy;
//   4. notices a dead connection itself — the browser's `offline` event, or no answer to a ping in
//      time — and closes the socket, because a half-open TCP connection can stay "open" for minutes.

const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_BANNED = 4403;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_TRY_AGAIN = 1013;
// Send errors worth retrying with the same client_id; any other refusal (content_blocked, forbidden,
// validation_error, ...) is final and the send is dropped.
const RETRYABLE = new Set(["service_unavailable", "internal_error", "rate_limited"]);
const SEEN_MAX = 5000;  // (group_id, seq) pairs remembered for dedupe

export const Status = Object.freeze({
  CONNECTING: "connecting",  // opening, or replaying what was missed (sync)
  ONLINE: "online",          // synced, live
  OFFLINE: "offline",        // no connection; a reconnect is scheduled (or waits for the network)
  ENDED: "ended",            // 4401/4403 or close(): no reconnect
});

// A random id for a send (idempotency key): the same one is used for every retry of that send.
export function newClientId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

// Events (listen with addEventListener(name, e => e.detail)):
//   status   {status, reason}            connection state changed (see Status)
//   hello    {frame}                     the server said hello
//   message  {message, own, replay}      a new message (deduped); own: sent by this user
//   ack      {clientId, message}         one of our sends is stored
//   sendfailed {clientId, error}         one of our sends was refused for good
//   synced   {cursor}                    caught up after (re)connecting
//   event    {type, data}                read/typing/presence/recall/listing/... events
//   error    {error}                     an error frame not about a send
//   ended    {code, error}               4401/4403: the session is over
export class ChatClient extends EventTarget {
  // url: the WebSocket URL (default: /ws on this page's host); token: the access token;
  // userId: whose storage keys to use; storage: localStorage-like; pingTimeoutMs: how long a ping may
  // go unanswered before the socket counts as dead; backoff: {baseMs, maxMs} for reconnects.
  constructor({ token, userId, url, storage = globalThis.localStorage, pingIntervalMs,
                pingTimeoutMs = 10000, backoff = { baseMs: 500, maxMs: 30000 } }) {
    super();
    this.token = token;
    this.userId = userId;
    this.url = url || defaultUrl();
    this.storage = storage;
    this.pingIntervalMs = pingIntervalMs;  // default: the server's heartbeat_s from hello
    this.pingTimeoutMs = pingTimeoutMs;
    this.backoff = backoff;
    this.status = Status.OFFLINE;
    this.ws = null;
    this.attempt = 0;         // reconnects since the last successful hello
    this.timers = {};
    this.seen = new Set();    // "group_id:seq" already handed to the app
    this.pending = new Map(this._load("pending") || []);  // client_id → send frame, until acked
    this._onOffline = () => this._drop("offline");
    this._onOnline = () => this._reconnectSoon(0);
  }

  // ----- public API -------------------------------------------------------------------------------

  get cursor() {
    return this._load("cursor");
  }

  connect() {
    if (this.status === Status.ENDED) return;
    globalThis.addEventListener?.("offline", this._onOffline);
    globalThis.addEventListener?.("online", this._onOnline);
    this._open();
  }

  // Stop for good (log out): no reconnect; pending sends stay in storage for the next login.
  close() {
    this._setStatus(Status.ENDED, "closed by the app");
    globalThis.removeEventListener?.("offline", this._onOffline);
    globalThis.removeEventListener?.("online", this._onOnline);
    this._clearTimers();
    this._detach(1000);
  }

  // Queue a message; returns its client_id. It goes out now when live, else after the next sync.
  send(groupId, type, body, ext) {
    const frame = { op: "send", client_id: newClientId(), group_id: groupId, type, body };
    if (ext) frame.ext = ext;
    this.pending.set(frame.client_id, frame);
    this._savePending();
    if (this.status === Status.ONLINE) this._write(frame);
    return frame.client_id;
  }

  sendText(groupId, text) {
    return this.send(groupId, "txt", { text });
  }

  // Move the read marker; false when offline (use REST `POST /groups/{id}/read` then).
  markRead(groupId, seq) {
    return this._write({ op: "read", group_id: groupId, seq });
  }

  typing(groupId) {
    return this._write({ op: "typing", group_id: groupId });
  }

  // Sends not acked yet, oldest first (to show them as "sending…").
  pendingSends() {
    return [...this.pending.values()];
  }

  // ----- the connection ---------------------------------------------------------------------------

  _open() {
    this._clearTimers();
    this._detach(1000);
    if (globalThis.navigator && navigator.onLine === false) {
      this._setStatus(Status.OFFLINE, "the network is down; waiting for it");
      return;  // the `online` event reconnects
    }
    this._setStatus(Status.CONNECTING, "connecting");
    const opening = this.opening = {};  // a later _open, _drop or close makes this attempt stale
    fetchTicket(this.url, this.token).then((ticket) => {
      if (this.opening === opening && this.status === Status.CONNECTING) this._attach(ticket);
    }, (err) => {
      if (this.opening !== opening || this.status !== Status.CONNECTING) return;
      this._onClose(err.status === 401 ? CLOSE_UNAUTHORIZED : 1006, err.message);
    });
    // No hello in time: treat the attempt as failed.
    this.timers.hello = setTimeout(() => this._drop("no hello"), this.pingTimeoutMs);
  }

  _attach(ticket) {
    const ws = new WebSocket(`${this.url}?ticket=${encodeURIComponent(ticket)}`);
    this.ws = ws;
    ws.onmessage = (e) => this._onFrame(JSON.parse(e.data));
    ws.onclose = (e) => this._onClose(e.code, e.reason);
    ws.onerror = () => {};  // always followed by `close`, which decides what to do
  }

  // Abandon the current socket at once: stop listening to it, close it, and reconnect later.
  // Used when the network is gone or a ping went unanswered: waiting for the browser to notice a dead
  // TCP connection can take minutes, and frames arriving on an abandoned socket are simply not
  // handled — their cursors are not saved, so the next `sync` brings them again.
  _drop(reason) {
    if (this.status === Status.ENDED) return;
    this._clearTimers();
    this._detach(4000);
    this._setStatus(Status.OFFLINE, reason);
    if (reason !== "offline") this._reconnectSoon();
  }

  _detach(code) {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onmessage = ws.onclose = ws.onerror = null;
    try { ws.close(code); } catch (err) { /* already closed */ }
  }

  _onClose(code, reason) {
    this.ws = null;
    this._clearTimers();
    if (code === CLOSE_UNAUTHORIZED || code === CLOSE_BANNED) {
      this._setStatus(Status.ENDED, reason || String(code));
      this._emit("ended", { code, error: this.lastError });
      return;
    }
    this._setStatus(Status.OFFLINE, `closed ${code}`);
    // 1001: this server process is stopping; another one takes us at once.
    this._reconnectSoon(code === CLOSE_GOING_AWAY ? 0 : undefined, code === CLOSE_TRY_AGAIN);
  }

  // Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... 30 s, reset by a successful hello.
  _reconnectSoon(delayMs, slow = false) {
    if (this.status === Status.ENDED) return;
    clearTimeout(this.timers.reconnect);
    if (delayMs === undefined) {
      const exp = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (this.attempt + (slow ? 2 : 0)));
      delayMs = exp / 2 + Math.random() * exp / 2;
    }
    this.attempt += 1;
    this.timers.reconnect = setTimeout(() => this._open(), delayMs);
  }

  // Application heartbeat: a ping every interval; any frame counts as an answer.
  _armHeartbeat(intervalMs) {
    clearInterval(this.timers.ping);
    this.timers.ping = setInterval(() => {
      this._write({ op: "ping" });
      clearTimeout(this.timers.pong);
      this.timers.pong = setTimeout(() => this._drop("heartbeat timeout"), this.pingTimeoutMs);
    }, intervalMs);
  }

  _write(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // ----- frames -----------------------------------------------------------------------------------

  _onFrame(frame) {
    clearTimeout(this.timers.pong);  // the connection is alive
    switch (frame.op) {
      case "hello": return this._onHello(frame);
      case "message": return this._onMessage(frame);
      case "ack": return this._onAck(frame);
      case "synced": return this._onSynced(frame);
      case "event": return this._emit("event", { type: frame.type, data: frame.data });
      case "error": return this._onError(frame);
      case "pong": return undefined;
      default: return undefined;  // a newer server's op: ignore it
    }
  }

  _onHello(frame) {
    clearTimeout(this.timers.hello);
    this.attempt = 0;
    this._emit("hello", { frame });
    this._armHeartbeat(this.pingIntervalMs || frame.heartbeat_s * 1000);
    // A device that never synced starts at the server's latest position (history comes from REST).
    this._write({ op: "sync", cursor: this.cursor ?? frame.cursor });
  }

  _onMessage(frame) {
    this._deliver(frame.message, this.status !== Status.ONLINE);
    if (frame.cursor) this._save("cursor", frame.cursor);  // room messages carry none
  }

  _onAck(frame) {
    const sent = this.pending.delete(frame.client_id);
    if (sent) this._savePending();
    this._emit("ack", { clientId: frame.client_id, message: frame.message });
    this._deliver(frame.message, false);
    if (frame.cursor) this._save("cursor", frame.cursor);
  }

  _onSynced(frame) {
    this._save("cursor", frame.cursor);
    if (frame.more) {
      this._write({ op: "sync", cursor: frame.cursor });  // the next batch
      return;
    }
    this._setStatus(Status.ONLINE, "synced");
    this._emit("synced", { cursor: frame.cursor });
    // Sends the last connection never acked go again, with the same client_id.
    for (const pending of this.pending.values()) this._write(pending);
  }

  _onError(frame) {
    const error = frame.error || {};
    this.lastError = error;
    const clientId = frame.client_id;
    if (clientId && this.pending.has(clientId)) {
      if (RETRYABLE.has(error.code)) {
        setTimeout(() => this.pending.has(clientId) && this._write(this.pending.get(clientId)), 1000);
      } else {
        this.pending.delete(clientId);
        this._savePending();
        this._emit("sendfailed", { clientId, error });
      }
      return;
    }
    if (error.code === "invalid_cursor") {
      // Not a cursor of this user (another account used this storage): start from hello's position.
      this.storage?.removeItem(this._key("cursor"));
      this._drop("invalid cursor");
      return;
    }
    this._emit("error", { error });
  }

  // Hand a message to the app once per (group_id, seq).
  _deliver(message, replay) {
    const key = `${message.group_id}:${message.seq}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value);
    const own = Boolean(message.sender && message.sender.id === this.userId);
    this._emit("message", { message, own, replay });
  }

  // ----- small things -----------------------------------------------------------------------------

  _setStatus(status, reason) {
    if (this.status === Status.ENDED) return;
    this.status = status;
    this._emit("status", { status, reason });
  }

  _emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  _clearTimers() {
    clearTimeout(this.timers.hello);
    clearTimeout(this.timers.pong);
    clearTimeout(this.timers.reconnect);
    clearInterval(this.timers.ping);
  }

  _key(name) {
    return `paipai.chat.${this.userId}.${name}`;
  }

  _load(name) {
    const raw = this.storage?.getItem(this._key(name));
    return raw ? JSON.parse(raw) : null;
  }

  _save(name, value) {
    this.storage?.setItem(this._key(name), JSON.stringify(value));
  }

  _savePending() {
    this._save("pending", [...this.pending.entries()]);
  }
}

// A single-use socket ticket (POST /api/v1/ws/ticket on the socket's host), so the token never goes in a URL.
function fetchTicket(wsUrl, token) {
  const url = wsUrl.replace(/^ws/, "http").replace(/\/ws$/, "/api/v1/ws/ticket");
  return fetch(url, { method: "POST", headers: { Authorization: `Bearer ${token}` } }).then((r) => {
    if (!r.ok) throw Object.assign(new Error(`no socket ticket (${r.status})`), { status: r.status });
    return r.json().then((body) => body.ticket);
  });
}

function defaultUrl() {
  const { protocol, host } = globalThis.location;
  return `${protocol === "https:" ? "wss:" : "ws:"}//${host}/ws`;
}
