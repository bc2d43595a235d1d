"use strict";
// What each server frame does to a client: the cursor saved after it is handled, the cache, the conversation
// list, the outbox (acks and refusals) and the events the app hears.
const { ApiError } = require("./rest.js");
const { State } = require("./connection.js");

// Send refusals worth another try with the same client_id; any other code is final and rejects the send.
const RETRYABLE = ["service_unavailable", "internal_error", "rate_limited"];
// Events after which the conversation list is read again: they change an item's listing, name, size or role, or
// the list itself (a new group, a room's membership, a user group's joins, leaves, removals, roles, rename and
// dissolution).
const RELOAD_ON = ["listing", "group", "member", "member_joined", "member_left", "member_removed", "role_changed",
                   "group_renamed", "group_dissolved"];

function handleFrame(client, frame) {
  switch (frame.op) {
    case "hello": return onHello(client, frame);
    case "message": return onMessage(client, frame.message, frame.cursor);
    case "ack": return onAck(client, frame);
    case "synced": return onSynced(client, frame);
    case "event":
      onEvent(client, frame.type, frame.data || {});
      // Edits and reaction changes of item, direct and user groups are inbox positions, like messages.
      if (frame.cursor) client._saveCursor(frame.cursor);
      return undefined;
    case "error": return onError(client, frame);
    default: return undefined;  // pong, or a newer server's op
  }
}

function onHello(client, frame) {
  if (frame.user_id !== client.userId) {  // useToken() was given another user's token
    client._fatal(new ApiError(401, "unauthorized", "the token is not this user's"));
    return;
  }
  // Resuming: the socket was opened with ?cursor=, the server replays what came after it (then `synced`).
  if (client.cursor) return;
  // A device that never synced starts at the server's latest position (older history comes from REST):
  // a first `sync` from there, answered by `synced`, so this socket goes live the same way.
  client._saveCursor(frame.cursor);
  client.connection.send({ op: "sync", cursor: frame.cursor });
}

function onSynced(client, frame) {
  if (frame.cursor) client._saveCursor(frame.cursor);
  if (frame.more) {
    client.connection.send({ op: "sync", cursor: frame.cursor });
    return;
  }
  if (client.state === State.LIVE) return;
  client.connection.live();
  for (const pending of client.outbox.frames()) client.connection.send(pending);  // same client_ids: stored once
  // The list as the server counts it; a network failure here is retried by the next reconnect.
  client.loadConversations().catch((err) => err.code !== "network_error" && client.emit("error", err));
}

function onMessage(client, message, cursor) {
  const own = Boolean(message.sender && message.sender.id === client.userId);
  const added = client.cache.add(message);
  for (const since of client._refreshes) since.push({ message, own });
  if (added !== "old") {
    if (client.list.applyMessage(message, own)) client._conversationsChanged();
    else client._reloadSoon();
  }
  if (added === "new") client.emit("message", message, { own, replay: client.state !== State.LIVE });
  if (cursor) client._saveCursor(cursor);
}

function onAck(client, frame) {
  if (client.outbox.ack(frame.client_id, frame.message)) client.emit("ack", frame.message, frame.client_id);
  onMessage(client, frame.message, frame.cursor);
}

function onEvent(client, type, data) {
  if (type === "read") {
    if (data.user_id === client.userId) {
      client.list.applyRead(data.group_id, data.seq);
      client._conversationsChanged();
    } else if (client.list.applyPeerRead(data.group_id, data.seq)) {
      client._conversationsChanged();  // the peer read up to seq: "已读"
    }
    client.emit("read", data);
  } else if (type === "unread") {
    if (client.list.setServerTotal(data.unread_total, data.unread_version)) client._badgeChanged();
  } else if (type === "recall") {
    applyRecall(client, data.message);
  } else if (type === "edit") {
    applyEdit(client, data.message);
  } else if (type === "reaction") {
    // Live: all the reactions now and the `change`; a replay (sync): the reactions as they are then, no change.
    client.cache.update(data.group_id, data.seq, { reactions: data.reactions });
    client.emit("reaction", data);
  } else if (type === "typing") {
    client.emit("typing", data);
  } else if (type === "presence") {
    if (client.list.applyPresence(data.user_id, data.online)) client._conversationsChanged();
    client.emit("presence", data);
  } else {
    if (RELOAD_ON.indexOf(type) >= 0) client._reloadSoon();
    client.emit("event", { type, data });
  }
}

function applyRecall(client, message) {
  if (!message) return;
  const result = client.cache.add(message);
  if (client.list.applyRecall(message)) client._conversationsChanged();
  if (result !== "dup") client.emit("recall", message);
}

function applyEdit(client, message) {
  if (!message) return;
  const had = client.cache.get(message.group_id, message.seq);
  // Each revision is applied and heard once (the REST answer, the live event and a replay may all bring it).
  if (had && (had.revision || 0) >= (message.revision || 0)) return;
  client.cache.update(message.group_id, message.seq, message);
  if (client.list.applyRecall(message)) client._conversationsChanged();  // the preview of the new text
  client.emit("edit", message);
}

function onError(client, frame) {
  const e = frame.error || {};
  const error = new ApiError(undefined, e.code, e.message, e.details);
  const clientId = frame.client_id;
  if (clientId && client.outbox && client.outbox.has(clientId)) {
    error.clientId = clientId;
    if (RETRYABLE.indexOf(e.code) >= 0) {
      const tries = client.outbox.retried(clientId);
      setTimeout(() => {
        const again = client.outbox.frames().find((f) => f.client_id === clientId);
        if (again && client.state === State.LIVE) client.connection.send(again);
      }, Math.min(30000, 500 * Math.pow(2, tries)));
      return;
    }
    client.outbox.fail(clientId, error);
    client.emit("error", error);
    return;
  }
  if (e.code === "invalid_cursor") {
    // Not this user's cursor (someone else used this storage): start again from hello's position.
    client.storage.remove(client._key("cursor"));
    client.connection.reconnectNow("invalid cursor");
    return;
  }
  if (e.code === "unauthorized" || e.code === "banned") return;  // the close (4401/4403) follows
  client.emit("error", error);
}

module.exports = { handleFrame, applyRecall, applyEdit };
