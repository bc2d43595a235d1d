"use strict";
// A tiny event emitter: on(name, fn) returns an unsubscribe function; a throwing listener never breaks the SDK.

class Emitter {
  constructor() {
    this._listeners = {};
  }

  on(name, fn) {
    (this._listeners[name] = this._listeners[name] || []).push(fn);
    return () => this.off(name, fn);
  }

  off(name, fn) {
    const list = this._listeners[name];
    if (list) this._listeners[name] = list.filter((f) => f !== fn);
  }

  emit(name, ...args) {
    for (const fn of (this._listeners[name] || []).slice()) {
      try {
        fn(...args);
      } catch (err) {
        // The app's bug: report it, keep delivering to the other listeners.
        if (typeof console !== "undefined") console.error(`paipai: a '${name}' listener threw`, err);
      }
    }
  }
}

module.exports = { Emitter };
