"use strict";
// The conversation list (GET /conversations) kept current from live frames: previews, unread counts, presence,
// the badge (`unread_total`, muted chats left out), mute and pin (pinned first) and the peer's read marker.
const { preview } = require("./util.js");

class Conversations {
  constructor() {
    this.items = [];            // conversation items, latest activity first (the server's shape)
    this.activeGroupId = null;  // the conversation on screen: its messages are not counted as unread
    this.readUpTo = new Map();  // group_id → our highest read marker seen
    this.serverTotal = null;    // the server's unread_total (GET /conversations, the `unread` event)
    this.serverVersion = -1;    // its unread_version: one more with each change on the server
  }

  get(groupId) {
    return this.items.find((c) => c.group_id === groupId) || null;
  }

  // A fresh first page from the server and its badge ({total, version}); `since` are the live messages
  // ({message, own}) that arrived while it was on its way, newer than the page or as new.
  replace(items, since, badge) {
    this.items = items.slice();
    this.setServerTotal(badge.total, badge.version);
    for (const c of this.items) this._capUnread(c);
    for (const entry of since || []) this.applyMessage(entry.message, entry.own);
    this._sort();
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
    this._sort();
    return true;
  }

  // Our read marker moved (this device or another).
  applyRead(groupId, seq) {
    this.readUpTo.set(groupId, Math.max(seq, this.readUpTo.get(groupId) || 0));
    const c = this.get(groupId);
    if (!c) return;
    const before = c.unread_count || 0;
    this._capUnread(c);
    this._lowerTotal(c, before);
  }

  // The other party's read marker moved: "已读" up to `seq`. Returns whether the item changed.
  applyPeerRead(groupId, seq) {
    const c = this.get(groupId);
    if (!c || (c.peer_read_seq || 0) >= seq) return false;
    c.peer_read_seq = seq;
    return true;
  }

  // A chat hidden from the list (DELETE /conversations/{id}): gone, its unread out of the badge until the server's
  // `unread` event tells the exact total. Returns whether it was listed.
  remove(groupId) {
    const c = this.get(groupId);
    if (!c) return false;
    const before = c.unread_count || 0;
    c.unread_count = 0;
    this._lowerTotal(c, before);
    this.items = this.items.filter((other) => other !== c);
    return true;
  }

  // {muted?, pinned?} as the server answered PUT /conversations/{id}: pinned chats move to the top.
  applyFlags(groupId, flags) {
    const c = this.get(groupId);
    if (!c) return false;
    if (typeof flags.muted === "boolean") c.muted = flags.muted;
    if (typeof flags.pinned === "boolean") c.pinned = flags.pinned;
    this._sort();
    return true;
  }

  // The badge from the server (a page or the `unread` event), unless one of the same or a higher version was
  // seen: an event sent before a page was read may arrive after it. Returns whether the badge changed.
  setServerTotal(total, version) {
    if (!(version > this.serverVersion)) return false;
    this.serverVersion = version;
    if (this.serverTotal === total) return false;
    this.serverTotal = total;
    return true;
  }

  // A recalled or edited message: the preview, when it is the conversation's last message.
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
    if (!c) return;
    const before = c.unread_count || 0;
    c.unread_count = 0;
    this._lowerTotal(c, before);
  }

  // The tab badge: the server's `unread_total` (it covers chats beyond the first page) once known, lowered at
  // once by our own reads; before that the list's own sum. Muted chats and rooms never count.
  unreadTotal() {
    if (this.serverTotal !== null) return this.serverTotal;
    return this.items.reduce((sum, c) => sum + (this._counts(c) ? c.unread_count || 0 : 0), 0);
  }

  _counts(c) {
    return !c.muted && c.kind !== "room";
  }

  // Our read or the open chat cleared `before - after` unread of a counted chat: the badge drops now; the
  // server's `unread` event that follows sets it exactly.
  _lowerTotal(c, before) {
    const drop = before - (c.unread_count || 0);
    if (drop > 0 && this.serverTotal !== null && this._counts(c)) this.serverTotal = Math.max(0, this.serverTotal - drop);
  }

  // Pinned first, each part by latest activity (the server's order; a stable sort keeps it among equals).
  _sort() {
    const at = (c) => (c.last_message ? c.last_message.created_at : c.updated_at) || "";
    this.items.sort((a, b) => (Boolean(b.pinned) - Boolean(a.pinned)) || (at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : 0));
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
