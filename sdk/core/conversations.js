"use strict";
// The conversation list (GET /conversations) kept current from live frames: previews, unread counts, presence.
const { preview } = require("./util.js");

class Conversations {
  constructor() {
    this.items = [];            // conversation items, latest activity first (the server's shape)
    this.activeGroupId = null;  // the conversation on screen: its messages are not counted as unread
    this.readUpTo = new Map();  // group_id → our highest read marker seen
  }

  get(groupId) {
    return this.items.find((c) => c.group_id === groupId) || null;
  }

  // A fresh first page from the server; `since` are the live messages applied while it was on its way.
  replace(items, since) {
    this.items = items.slice();
    for (const c of this.items) this._capUnread(c);
    for (const entry of since || []) this.applyMessage(entry.message, entry.own);
  }

  // A new message: newer than the list's last one → new preview, unread +1 (not ours, not on screen), to the
  // top. Returns false when the conversation is not in the list (the caller reloads it).
  applyMessage(message, own) {
    const c = this.get(message.group_id);
    if (!c) return false;
    const last = c.last_message;
    if (last && last.seq >= message.seq) return true;
    c.last_message = { id: message.id, seq: message.seq, type: message.type, preview: preview(message),
                       sender_id: message.sender ? message.sender.id : null, created_at: message.created_at };
    c.updated_at = message.created_at;
    if (!own && message.group_id !== this.activeGroupId) c.unread_count = (c.unread_count || 0) + 1;
    this.items = [c].concat(this.items.filter((other) => other !== c));
    return true;
  }

  // Our read marker moved (this device or another).
  applyRead(groupId, seq) {
    this.readUpTo.set(groupId, Math.max(seq, this.readUpTo.get(groupId) || 0));
    const c = this.get(groupId);
    if (c) this._capUnread(c);
  }

  applyRecall(message) {
    const c = this.get(message.group_id);
    if (!c || !c.last_message || c.last_message.id !== message.id) return false;
    c.last_message = Object.assign({}, c.last_message, { preview: preview(message) });
    return true;
  }

  applyPresence(userId, online) {
    let changed = false;
    for (const c of this.items) {
      if (c.peer && c.peer.id === userId && c.peer.online !== online) {
        c.peer.online = online;
        changed = true;
      }
    }
    return changed;
  }

  setActive(groupId) {
    this.activeGroupId = groupId;
    const c = groupId === null ? null : this.get(groupId);
    if (c) c.unread_count = 0;
  }

  unreadTotal() {
    return this.items.reduce((sum, c) => sum + (c.unread_count || 0), 0);
  }

  _capUnread(c) {
    if (c.group_id === this.activeGroupId) {
      c.unread_count = 0;
      return;
    }
    const read = this.readUpTo.get(c.group_id);
    if (read === undefined) return;
    const lastSeq = c.last_message ? c.last_message.seq : 0;
    c.unread_count = Math.max(0, Math.min(c.unread_count || 0, lastSeq - read));
  }
}

module.exports = { Conversations };
