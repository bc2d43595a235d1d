"use strict";
// The chat client: one per logged-in user. Turns frames into the cache, the conversation list, the outbox
// and events; offers the sends and REST helpers a chat screen needs. Platforms plug in through an adapter.
const { Emitter } = require("./emitter.js");
const { ApiError, createRest } = require("./rest.js");
const { Outbox } = require("./outbox.js");
const { MessageCache } = require("./cache.js");
const { Conversations } = require("./conversations.js");
const { Connection, State } = require("./connection.js");
const { listen } = require("./compat.js");
const { handleFrame, applyRecall, applyEdit } = require("./frames.js");
const { newClientId } = require("./util.js");

const DEFAULTS = {
  baseUrl: "",              // "https://api.example.com" (the mini-program's request domain); "" = this page's host
  storagePrefix: "paipai",
  cacheLimit: 200,          // messages kept per conversation
  conversationsLimit: 50,   // the first page of the list, reloaded after every (re)connect
  hideGraceMs: null,        // close this long after the app is hidden (null: never); the WeChat adapter sets 5 s
  pingIntervalMs: null,     // default: the server's heartbeat_s from hello
  pingTimeoutMs: 10000,
  helloTimeoutMs: 10000,
  backoff: { baseMs: 500, maxMs: 30000 },
};

class Client extends Emitter {
  constructor(platform, options = {}) {
    super();
    this.options = Object.assign({}, DEFAULTS, options);
    this.platform = platform;
    this.storage = platform.storage;
    const base = this.options.baseUrl.replace(/\/+$/, "");
    this.rest = createRest({ platform, apiBase: `${base}/api/v1`, getToken: () => this.token,
                             onUnauthorized: (error) => this._fatal(error) });
    this.outbox = null;
    this.session = this.storage.get(this._key("session"));  // {access_token, user}
    this._refreshes = [];   // live messages seen while a conversation list request is on its way
    this._timers = {};
    this._holder = undefined;  // whose chats `list`, `cache` and the badge hold (`_holdFor`)
    this._holdFor(null);
    this.connection = new Connection({
      platform, rest: this.rest, options: this.options,
      wsUrl: this.options.wsUrl || platform.wsUrl(base),
      hooks: {
        getToken: () => this.token,
        getCursor: () => this.cursor,
        onFrame: (frame) => handleFrame(this, frame),
        onState: (state, reason) => this._onState(state, reason),
        onFatal: (error) => this._fatal(error),
      },
    });
    if (this.session) this._attach();
  }

  // ----- session -----------------------------------------------------------------------------------------

  get token() { return this.session ? this.session.access_token : null; }
  get user() { return this.session ? this.session.user : null; }
  get userId() { return this.user ? this.user.id : null; }
  get state() { return this.connection.state; }
  get cursor() { return this.userId === null ? null : this.storage.get(this._key("cursor")) || null; }

  // {username, password} (grant_type "password") or {code} from wx.login (grant_type "wechat").
  async login(credentials) {
    const body = credentials.code !== undefined
      ? { grant_type: "wechat", code: credentials.code }
      : { grant_type: "password", username: credentials.username, password: credentials.password };
    const answer = await this.rest.token(body);
    this.useToken(answer.access_token, answer.user);
    return answer.user;
  }

  // A token obtained elsewhere (the web page's own login), with its user.
  useToken(accessToken, user) {
    this.session = { access_token: accessToken, user };
    this.storage.set(this._key("session"), this.session);
    this._attach();
  }

  // Revoke the token and forget the session; this user's unsent messages stay for their next login.
  async logout() {
    this.close();
    if (this.token) await this.rest.revokeToken().catch(() => {});
    this.session = null;
    this.storage.remove(this._key("session"));
    this.outbox = null;
    this._holdFor(null);
  }

  _attach() {
    this.outbox = new Outbox(this.storage, this._key("outbox", this.userId));
    this._holdFor(this.userId);
  }

  // The conversation list, cached messages and badge are one user's: another user (or none) starts them empty,
  // and the app hears it (an empty list, a badge of 0) until the next user's list loads. Kept for the same user.
  _holdFor(userId) {
    if (this._holder === userId) return;
    const held = this._holder != null;  // someone's chats are on screen: the app must drop them
    this._holder = userId;
    this.cache = new MessageCache(this.options.cacheLimit);
    this.list = new Conversations();
    this._badge = null;
    if (held) this._conversationsChanged();
  }

  // ----- the connection ----------------------------------------------------------------------------------

  connect() {
    this.connection.start();
    return this;
  }

  // Stop for now (no reconnect); unsent messages stay in storage and their promises stay pending.
  close() {
    this.connection.stop("closed");
  }

  destroy() {
    this.connection.destroy();
    for (const name of Object.keys(this._timers)) clearTimeout(this._timers[name]);
  }

  // The old SDK's handler names (onTextMessage, onPictureMessage, ...): returns a function that unsubscribes.
  listen(handlers) {
    return listen(this, handlers);
  }

  // ----- sending -----------------------------------------------------------------------------------------

  // Queue a message: kept in storage until acked, resent with the same client_id after a reconnect or restart.
  // The promise resolves with the stored message or rejects with an ApiError (`code` as the server gave it);
  // it carries the `clientId` (show the message as "sending" under it).
  // `options`: {replyTo: message id of this group, mentions: [user ids] | "all"} (mentions: groups and rooms).
  send(groupId, type, body, ext, options = {}) {
    if (!this.outbox) {
      const refused = Promise.reject(new ApiError(401, "unauthorized", "log in before sending"));
      refused.clientId = null;
      return refused;
    }
    const frame = { op: "send", client_id: newClientId(), group_id: groupId, type, body };
    if (ext) frame.ext = ext;
    if (options.replyTo) frame.reply_to = { id: options.replyTo };
    if (options.mentions) frame.mentions = options.mentions;
    const promise = this.outbox.add(frame);
    if (this.state === State.LIVE) this.connection.send(frame);
    promise.clientId = frame.client_id;
    return promise;
  }

  sendText(groupId, text, ext, options) { return this.send(groupId, "txt", { text }, ext, options); }
  sendLocation(groupId, { lat, lng, address }, ext) { return this.send(groupId, "location", { lat, lng, address }, ext); }
  sendCustom(groupId, event, data, ext) { return this.send(groupId, "custom", { event, data }, ext); }

  // Upload (wx.uploadFile with a temp file path in a mini-program, a File in the browser), then send.
  async sendImage(groupId, file, size = {}, ext) {
    const { url } = await this.upload(file);
    return this.send(groupId, "img", Object.assign({ url }, size), ext);
  }

  async sendAudio(groupId, file, durationMs, ext) {
    const { url } = await this.upload(file);
    return this.send(groupId, "audio", { url, duration_ms: durationMs }, ext);
  }

  async sendVideo(groupId, file, durationMs, extra = {}, ext) {
    const { url } = await this.upload(file);
    const body = { url, duration_ms: durationMs };
    if (extra.thumbUrl) body.thumb_url = extra.thumbUrl;
    return this.send(groupId, "video", body, ext);
  }

  // Sends not acked yet (restored ones too), oldest first, each with its `promise` of this run.
  pendingSends() {
    return this.outbox ? this.outbox.pending() : [];
  }

  typing(groupId) {
    return this.connection.send({ op: "typing", group_id: groupId });
  }

  // Move the read marker (default: to the newest message known): over the socket when live, else REST.
  async markRead(groupId, seq) {
    const c = this.list.get(groupId);
    const upTo = seq || Math.max(this.cache.lastSeq(groupId), c && c.last_message ? c.last_message.seq : 0);
    if (!upTo) return;
    this.list.applyRead(groupId, upTo);
    this._conversationsChanged();
    if (this.state === State.LIVE && this.connection.send({ op: "read", group_id: groupId, seq: upTo })) return;
    await this.rest.read(groupId, upTo);
  }

  // The conversation on screen: its messages never count as unread (call with null when it closes).
  setActiveConversation(groupId) {
    this.list.setActive(groupId);
    this._conversationsChanged();
  }

  // ----- REST helpers ------------------------------------------------------------------------------------

  // The first page of the conversation list (it becomes `conversations()`); other pages/filters are returned only.
  async loadConversations(query = {}) {
    const list = this.list;  // a page asked for one user is never shown to the next (`_holdFor`)
    const since = [];
    this._refreshes.push(since);
    let page;
    try {
      page = await this.rest.conversations(Object.assign({ limit: this.options.conversationsLimit }, query));
    } finally {
      this._refreshes = this._refreshes.filter((s) => s !== since);
    }
    if (list === this.list && !query.cursor && !query.kind && !query.listing_id && !query.archived) {
      this.list.replace(page.items, since, { total: page.unread_total, version: page.unread_version });
      this._conversationsChanged();
    }
    return page;
  }

  conversations() { return this.list.items; }
  // The tab-bar badge: unread messages of every chat that is not muted (the `unread` event tells its changes).
  unreadTotal() { return this.list.unreadTotal(); }

  // Mute (leaves the badge, no notifications) or unmute a chat; the list and badge are read again after.
  mute(groupId, muted = true) { return this._flags(groupId, { muted: Boolean(muted) }); }

  // Pin (heads the list; the server allows 10: `pin_limit`) or unpin a chat.
  pin(groupId, pinned = true) { return this._flags(groupId, { pinned: Boolean(pinned) }); }

  // Delete a chat from the list (删除聊天): it leaves the list and its unread the badge at once, and comes back with
  // the next message (counting only what came after). Only your view changes: no read receipt, history stays.
  async hideConversation(groupId) {
    await this.rest.hideConversation(groupId);
    if (this.list.remove(groupId)) this._conversationsChanged();
    await this.loadConversations().catch(() => {});
  }

  async _flags(groupId, flags) {
    const answer = await this.rest.updateConversation(groupId, flags);
    if (this.list.applyFlags(groupId, answer)) this._conversationsChanged();
    // The exact badge and order (a muted chat's unread leaves unread_total on the server).
    await this.loadConversations().catch(() => {});
    return answer;
  }

  // Bind the WeChat user of a wx.login code to this account (then `login({code})` finds it).
  bindWechat(code) { return this.rest.bindWechat(code); }

  // Record the answer of wx.requestSubscribeMessage for a template: each acceptance lets the server send one
  // notification while this user is offline. → {template_id, ...} as the server counts it.
  recordSubscription(templateId, accepted) { return this.rest.subscription(templateId, Boolean(accepted)); }

  // A page of history ({beforeSeq} for older, {afterSeq} for newer, neither: the newest): also cached.
  async history(groupId, { beforeSeq, afterSeq, limit = 30 } = {}) {
    const cache = this.cache;  // as the list: another user's cache never takes this page
    const page = await this.rest.messages(groupId, { before_seq: beforeSeq, after_seq: afterSeq, limit });
    for (const message of page.items) cache.add(message);
    return page;
  }

  // The cached messages of one conversation, in seq order.
  messages(groupId) { return this.cache.list(groupId); }

  // Ask the seller about a listing (the item chat, new or existing); the list is reloaded.
  async openInquiry(listingId) {
    const group = await this.rest.inquiry(listingId);
    await this.loadConversations().catch(() => {});
    return group;
  }

  async openDirect(userId) {
    const group = await this.rest.direct(userId);
    await this.loadConversations().catch(() => {});
    return group;
  }

  // Edit your text message (the sender, within the server's window): the stored message, also in the cache.
  async editMessage(groupId, messageId, text) {
    const message = await this.rest.editMessage(groupId, messageId, text);
    applyEdit(this, message);
    return message;
  }

  // Add (or remove) your emoji reaction: {group_id, message_id, seq, reactions} (null for unreact).
  react(groupId, messageId, emoji) { return this.rest.react(groupId, messageId, emoji); }
  unreact(groupId, messageId, emoji) { return this.rest.unreact(groupId, messageId, emoji); }

  async recall(groupId, messageId) {
    const message = await this.rest.recall(groupId, messageId);
    applyRecall(this, message);
    return message;
  }

  upload(file) { return this.rest.upload(file); }

  _onState(state, reason) {
    this.emit("state", state, reason);
  }

  _fatal(error) {
    error.fatal = true;
    this.connection.stop(error.code);
    this.emit("error", error);
  }

  // ----- small things ------------------------------------------------------------------------------------

  _saveCursor(cursor) {
    this.storage.set(this._key("cursor"), cursor);
  }

  // One 'conversations' event per turn of the event loop, however many frames changed the list.
  _conversationsChanged() {
    if (this._timers.changed) return;
    this._timers.changed = setTimeout(() => {
      this._timers.changed = null;
      this.emit("conversations", this.list.items);
      this._badgeChanged();
    }, 0);
  }

  // An 'unread' event (the tab badge) whenever the total changes.
  _badgeChanged() {
    const total = this.list.unreadTotal();
    if (total === this._badge) return;
    this._badge = total;
    this.emit("unread", total);
  }

  // The list misses a conversation (a new chat, a listing or membership change): read it again shortly.
  _reloadSoon() {
    clearTimeout(this._timers.reload);
    this._timers.reload = setTimeout(() => this.loadConversations().catch(() => {}), 200);
  }

  _key(name, userId = this.userId) {
    return name === "session" ? `${this.options.storagePrefix}.session` : `${this.options.storagePrefix}.${userId}.${name}`;
  }
}

module.exports = { Client, State, DEFAULTS };
