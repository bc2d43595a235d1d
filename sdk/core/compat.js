"use strict";
// The old IM SDK's `conn.listen({...})` handler names on top of the client's events, so an app.js written for
// it ports by renaming. Each message handler gets the old shape ({id, type, from, to, data, url, ext, ...})
// plus the PaiPai message itself as `message`.

const HANDLER_BY_TYPE = {
  txt: "onTextMessage",
  img: "onPictureMessage",
  audio: "onAudioMessage",
  video: "onVideoMessage",
  location: "onLocationMessage",
  file: "onFileMessage",
  custom: "onCustomMessage",
  offer: "onCustomMessage",   // server-made: a price offer, as a custom message with event "offer"
  system: "onCustomMessage",  // server-made: a notice, as a custom message with event "system"
};

// The old message shape: `from` the sender's user id (as a string, as the old SDK's user names were),
// `to` the group id, `data` the text, `url` the media.
function oldShape(message) {
  const body = message.body || {};
  return {
    id: String(message.id),
    type: message.type,
    from: message.sender ? String(message.sender.id) : "",
    to: String(message.group_id),
    data: body.text !== undefined ? body.text : "",
    url: body.url,
    ext: message.ext || {},
    time: message.created_at,
    groupId: message.group_id,
    seq: message.seq,
    body,
    sender: message.sender,
    message,
  };
}

function customData(message) {
  const body = message.body || {};
  if (message.type === "custom") return body;
  return { event: message.type, data: body };
}

// listen(client, handlers) → unsubscribe(). Handlers: onOpened, onClosed, onError, onPresence, onRecallMessage
// and one per message type (HANDLER_BY_TYPE). Your own messages from your other devices come too (`own`).
function listen(client, handlers) {
  const call = (name, ...args) => {
    if (typeof handlers[name] === "function") handlers[name](...args);
  };
  let wasLive = false;
  const offs = [
    client.on("message", (message, info) => {
      const name = HANDLER_BY_TYPE[message.type];
      if (!name) return;
      const old = oldShape(message);
      old.own = Boolean(info && info.own);
      if (name === "onCustomMessage") old.customExts = customData(message);
      call(name, old);
    }),
    client.on("recall", (message) => call("onRecallMessage", oldShape(message))),
    client.on("presence", (data) => call("onPresence", {
      type: data.online ? "online" : "offline", from: String(data.user_id), userId: data.user_id, data })),
    client.on("event", (event) => {
      // Group and member changes were presence messages in the old SDK too (joined, left, removed...).
      if (event.type === "group" || event.type === "member") {
        call("onPresence", { type: `${event.type}_${event.data.action}`, gid: String(event.data.group_id), data: event.data });
      }
    }),
    client.on("state", (state, reason) => {
      if (state === "live") {
        wasLive = true;
        call("onOpened", { reason });
      } else if (state === "offline" && wasLive) {
        wasLive = false;
        call("onClosed", { reason });
      }
    }),
    client.on("error", (error) => call("onError", { type: error.code, message: error.message, error })),
  ];
  return () => offs.forEach((off) => off());
}

module.exports = { listen, oldShape, HANDLER_BY_TYPE };
