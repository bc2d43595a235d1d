"use strict";
// The persisted outbox: every send waits in storage, under its client_id, until the server acks or refuses it.
const { deferred } = require("./util.js");

class Outbox {
  // storage: {get(key), set(key, value), remove(key)}; key: where this user's outbox lives.
  constructor(storage, key) {
    this.storage = storage;
    this.key = key;
    this.entries = new Map();  // client_id → {frame, waiter: {promise, resolve, reject}, tries}
    for (const frame of storage.get(key) || []) {
      this.entries.set(frame.client_id, { frame, waiter: deferred(), tries: 0 });
    }
  }

  // Keep a send frame (in storage before anything goes on the wire); its promise settles on ack or refusal.
  add(frame) {
    const entry = { frame, waiter: deferred(), tries: 0 };
    this.entries.set(frame.client_id, entry);
    this._save();
    return entry.waiter.promise;
  }

  has(clientId) {
    return this.entries.has(clientId);
  }

  frames() {
    return Array.from(this.entries.values(), (e) => e.frame);
  }

  // The sends still waiting (restored ones included), oldest first, each with the promise of this run.
  pending() {
    return Array.from(this.entries.values(), (e) => Object.assign({}, e.frame, { promise: e.waiter.promise }));
  }

  promise(clientId) {
    const entry = this.entries.get(clientId);
    return entry ? entry.waiter.promise : null;
  }

  // The server stored it: resolve with the stored message. False when it was not waiting (a repeated ack).
  ack(clientId, message) {
    const entry = this.entries.get(clientId);
    if (!entry) return false;
    this.entries.delete(clientId);
    this._save();
    entry.waiter.resolve(message);
    return true;
  }

  // Refused for good: reject with the server's error.
  fail(clientId, error) {
    const entry = this.entries.get(clientId);
    if (!entry) return false;
    this.entries.delete(clientId);
    this._save();
    entry.waiter.reject(error);
    return true;
  }

  // A retryable refusal: how many times this send has been refused so far.
  retried(clientId) {
    const entry = this.entries.get(clientId);
    if (!entry) return 0;
    entry.tries += 1;
    return entry.tries;
  }

  _save() {
    if (this.entries.size) this.storage.set(this.key, this.frames());
    else this.storage.remove(this.key);
  }
}

module.exports = { Outbox };
