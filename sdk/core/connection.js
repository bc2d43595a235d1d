"use strict";
// The socket's life: auth on the handshake, hello, heartbeat, reconnect with backoff and jitter, close on hide
// after a grace and resume on show, resume as soon as the network returns, and the `state` it is in.
const { ApiError } = require("./rest.js");
const { backoffDelay, queryString } = require("./util.js");

const CLOSE_NORMAL = 1000;
const CLOSE_GOING_AWAY = 1001;  // that server process stops: another one takes us at once
const CLOSE_TRY_AGAIN = 1013;   // overloaded: back off harder
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_BANNED = 4403;
const CLOSE_ABANDONED = 4000;   // ours: a socket we stopped trusting (no hello, no pong, network gone)

const State = Object.freeze({ CONNECTING: "connecting", LIVE: "live", OFFLINE: "offline" });

class Connection {
  // hooks: {getToken, getCursor, onFrame(frame), onState(state, reason), onFatal(error)}
  constructor({ platform, rest, wsUrl, options, hooks }) {
    this.platform = platform;
    this.rest = rest;
    this.wsUrl = wsUrl;
    this.options = options;
    this.hooks = hooks;
    this.state = State.OFFLINE;
    this.wanted = false;     // connect() called and not closed since
    this.hidden = false;     // the app is in the background past its grace
    this.online = platform.isOnline ? platform.isOnline() : true;
    this.ref = null;         // {socket}: the current socket; frames of any other one are ignored
    this.attempt = 0;        // failed attempts since the last live socket (drives the backoff)
    this.ticketRoute = true; // POST /ws/ticket answered something other than 404 (so far)
    this.timers = {};
    this.unsubscribe = [
      platform.onHide(() => this._hide()),
      platform.onShow(() => this._show()),
      platform.onNetwork((online) => this._network(online)),
    ];
  }

  start() {
    this.wanted = true;
    if (!this.ref && !this.timers.retry) this._open();
  }

  // No reconnect until start() again.
  stop(reason = "closed") {
    this.wanted = false;
    this._clearTimers();
    this._detach(CLOSE_NORMAL);
    this._setState(State.OFFLINE, reason);
  }

  destroy() {
    this.stop("destroyed");
    for (const off of this.unsubscribe) if (typeof off === "function") off();
    this.unsubscribe = [];
  }

  // The client caught up (synced): the socket is live and the backoff starts over.
  live() {
    clearTimeout(this.timers.hello);
    this.attempt = 0;
    this._setState(State.LIVE, "synced");
  }

  send(frame) {
    if (!this.ref || !this.ref.open) return false;
    try {
      this.ref.socket.send(JSON.stringify(frame));
      return true;
    } catch (err) {
      return false;
    }
  }

  // Drop this socket and open a new one now (e.g. the stored cursor turned out to be someone else's).
  reconnectNow(reason) {
    this._clearTimers();
    this._detach(CLOSE_ABANDONED);
    this._setState(State.OFFLINE, reason);
    this._open();
  }

  // ----- opening ---------------------------------------------------------------------------------------

  async _open() {
    this._clearTimers();
    this._detach(CLOSE_ABANDONED);
    if (!this.wanted || this.hidden || !this.online) {
      this._setState(State.OFFLINE, !this.online ? "network" : this.hidden ? "hidden" : "closed");
      return;
    }
    const token = this.hooks.getToken();
    if (!token) {
      this._fatal(new ApiError(401, "unauthorized", "log in before connecting"));
      return;
    }
    const ref = { socket: null, open: false };
    this.ref = ref;
    this._setState(State.CONNECTING, "connecting");
    const query = {};
    const headers = {};
    if (this.platform.socketHeaders) {
      headers.Authorization = `Bearer ${token}`;
    } else {
      // A ticket request that never answers must not leave the client connecting forever.
      this.timers.hello = setTimeout(() => this._abandon("no ticket in time"), this.options.helloTimeoutMs);
      try {
        Object.assign(query, await this._authQuery(token));
      } catch (err) {
        if (ref !== this.ref) return;
        this.ref = null;
        clearTimeout(this.timers.hello);
        if (err.status === 401 || err.code === "banned") this._fatal(err);
        else this._lost(`auth: ${err.code}`);
        return;
      }
      if (ref !== this.ref) return;
    }
    const cursor = this.hooks.getCursor();
    if (cursor) query.cursor = cursor;  // the server replays what came after it before anything live
    ref.socket = this.platform.openSocket(this.wsUrl + queryString(query), headers, {
      open: () => { ref.open = true; },
      message: (text) => this._onText(ref, text),
      close: (code, reason) => this._onClose(ref, code, reason),
    });
    clearTimeout(this.timers.hello);
    this.timers.hello = setTimeout(() => this._abandon("no hello in time"), this.options.helloTimeoutMs);
  }

  // Platforms without socket headers: a single-use ticket; `access_token` in the URL while the server has no
  // ticket route (404).
  async _authQuery(token) {
    if (this.ticketRoute) {
      try {
        const answer = await this.rest.wsTicket();
        return { ticket: answer.ticket };
      } catch (err) {
        if (err.status !== 404 && err.status !== 405) throw err;
        this.ticketRoute = false;
      }
    }
    return { access_token: token };
  }

  // ----- the open socket -------------------------------------------------------------------------------

  _onText(ref, text) {
    if (ref !== this.ref) return;  // a socket we left: its frames' cursors are never saved, sync brings them
    ref.open = true;
    let frame;
    try {
      frame = JSON.parse(text);
    } catch (err) {
      return;
    }
    clearTimeout(this.timers.pong);
    this.timers.pong = null;
    if (frame.op === "hello") this._armHeartbeat(frame.heartbeat_s);
    if (this.state !== State.LIVE) {
      // Catching up: every frame is progress; none for helloTimeoutMs and the attempt has failed.
      clearTimeout(this.timers.hello);
      this.timers.hello = setTimeout(() => this._abandon("no progress while connecting"), this.options.helloTimeoutMs);
    }
    this.hooks.onFrame(frame);
  }

  // An application ping every interval; no frame at all within pingTimeoutMs after it → the socket is dead
  // (a half-open TCP connection can look open for minutes).
  _armHeartbeat(heartbeatS) {
    clearInterval(this.timers.ping);
    const every = this.options.pingIntervalMs || Math.max(1000, (heartbeatS || 25) * 1000);
    this.timers.ping = setInterval(() => {
      if (!this.send({ op: "ping" })) return;
      if (!this.timers.pong) this.timers.pong = setTimeout(() => this._abandon("heartbeat timeout"), this.options.pingTimeoutMs);
    }, every);
  }

  _onClose(ref, code, reason) {
    if (ref !== this.ref) return;
    this.ref = null;
    this._clearTimers();
    if (code === CLOSE_UNAUTHORIZED || code === CLOSE_BANNED) {
      const banned = code === CLOSE_BANNED;
      this._fatal(new ApiError(banned ? 403 : 401, banned ? "banned" : "unauthorized", reason || String(code)));
      return;
    }
    this._lost(`closed ${code}`, code === CLOSE_GOING_AWAY ? "now" : code === CLOSE_TRY_AGAIN ? "slow" : "");
  }

  _abandon(reason) {
    this._clearTimers();
    this._detach(CLOSE_ABANDONED);
    this._lost(reason);
  }

  _lost(reason, pace = "") {
    this._setState(State.OFFLINE, reason);
    if (!this.wanted || this.hidden || !this.online) return;
    const { baseMs, maxMs } = this.options.backoff;
    const delay = pace === "now" ? Math.random() * 250 : backoffDelay(this.attempt + (pace === "slow" ? 2 : 0), baseMs, maxMs);
    this.attempt += 1;
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => {
      this.timers.retry = null;
      this._open();
    }, delay);
  }

  _fatal(error) {
    this.wanted = false;
    this._clearTimers();
    this._detach(CLOSE_NORMAL);
    this._setState(State.OFFLINE, error.code);
    this.hooks.onFatal(error);
  }

  // ----- the app and the network -----------------------------------------------------------------------

  _hide() {
    const grace = this.options.hideGraceMs;
    if (grace === null || grace === undefined) return;
    clearTimeout(this.timers.hide);
    this.timers.hide = setTimeout(() => {
      this.hidden = true;
      this._clearTimers();
      this._detach(CLOSE_NORMAL);
      this._setState(State.OFFLINE, "hidden");
    }, grace);
  }

  _show() {
    clearTimeout(this.timers.hide);
    this.timers.hide = null;
    if (!this.hidden) return;
    this.hidden = false;
    this.attempt = 0;
    if (this.wanted && !this.ref) this._open();
  }

  _network(online) {
    if (!online) {
      this.online = false;
      this._clearTimers();
      this._detach(CLOSE_ABANDONED);
      this._setState(State.OFFLINE, "network");
      return;
    }
    if (this.online) return;
    this.online = true;
    this.attempt = 0;
    if (this.wanted && !this.hidden && !this.ref) this._open();
  }

  // ----- small things ----------------------------------------------------------------------------------

  _detach(code) {
    const ref = this.ref;
    this.ref = null;
    if (!ref || !ref.socket) return;
    try {
      ref.socket.close(code, "");
    } catch (err) {
      // already closed
    }
  }

  _clearTimers() {
    clearTimeout(this.timers.hello);
    clearTimeout(this.timers.pong);
    clearTimeout(this.timers.retry);
    clearInterval(this.timers.ping);
    const hide = this.timers.hide;
    this.timers = { hide };
  }

  _setState(state, reason) {
    if (state === this.state) return;
    this.state = state;
    this.hooks.onState(state, reason);
  }
}

module.exports = { Connection, State };
