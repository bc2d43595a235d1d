"use strict";
// A bounded cache of each conversation's messages, by seq: every seq once, the newest `limit` kept.

class MessageCache {
  constructor(limit = 200) {
    this.limit = limit;
    this.groups = new Map();  // group_id → Map(seq → message)
  }

  _group(groupId) {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new Map();
      this.groups.set(groupId, group);
    }
    return group;
  }

  // Put a stored message in: "new", "updated" (a recall replaced it), "dup" (already there) or "old"
  // (below what the cache keeps when full).
  add(message) {
    const group = this._group(message.group_id);
    const had = group.get(message.seq);
    if (had) {
      if (message.recalled && !had.recalled) {
        group.set(message.seq, message);
        return "updated";
      }
      return "dup";
    }
    if (group.size >= this.limit && message.seq < this.firstSeq(message.group_id)) return "old";
    group.set(message.seq, message);
    if (group.size > this.limit) group.delete(this.firstSeq(message.group_id));
    return "new";
  }

  // A newer state of a cached message (an edit, its reactions): merged in by seq; false when not cached.
  update(groupId, seq, fields) {
    const group = this.groups.get(groupId);
    const had = group && group.get(seq);
    if (!had) return false;
    group.set(seq, Object.assign({}, had, fields));
    return true;
  }

  get(groupId, seq) {
    const group = this.groups.get(groupId);
    return (group && group.get(seq)) || null;
  }

  has(groupId, seq) {
    const group = this.groups.get(groupId);
    return Boolean(group && group.has(seq));
  }

  // Messages of one conversation in seq order.
  list(groupId) {
    const group = this.groups.get(groupId);
    if (!group) return [];
    return Array.from(group.values()).sort((a, b) => a.seq - b.seq);
  }

  firstSeq(groupId) {
    const group = this.groups.get(groupId);
    if (!group || !group.size) return 0;
    let first = Infinity;
    for (const seq of group.keys()) if (seq < first) first = seq;
    return first;
  }

  lastSeq(groupId) {
    const group = this.groups.get(groupId);
    if (!group || !group.size) return 0;
    let last = 0;
    for (const seq of group.keys()) if (seq > last) last = seq;
    return last;
  }

  clear() {
    this.groups.clear();
  }
}

module.exports = { MessageCache };
