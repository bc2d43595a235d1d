// The conversation list of /chat: GET /conversations, then kept current by the socket's messages.
import { clear, h, shortTime, yuan } from "/web/dom.js";
import { messageSummary } from "/web/messages.js";

const STATUS = { active: "", reserved: "已预订", sold: "已售出", given: "已送出", withdrawn: "已下架",
                 removed: "已删除", pending_review: "审核中", rejected: "未通过" };

export class ConversationList {
  constructor({ api, listEl, emptyEl, me, onOpen }) {
    this.api = api;
    this.el = listEl;
    this.emptyEl = emptyEl;
    this.me = me;
    this.onOpen = onOpen;
    this.items = [];           // conversation items, newest activity first
    this.openGroupId = null;
    this.reloadTimer = null;
    this.readUpTo = new Map();  // group id → our latest read marker seen here
  }

  get(groupId) {
    return this.items.find((c) => c.group_id === groupId) || null;
  }

  // The first page (the list as it is now): 50 is plenty for trying the chat by hand.
  async reload() {
    const page = await this.api.get("/conversations", { limit: 50 });
    // A page fetched while a read marker was on its way can still count those messages as unread.
    for (const c of page.items) this._capUnread(c);
    this.items = page.items;
    this.render();
  }

  reloadSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.reload().catch(() => {}), 200);
  }

  setOpen(groupId) {
    this.openGroupId = groupId;
    const conversation = this.get(groupId);
    if (conversation) conversation.unread_count = 0;
    this.render();
  }

  // A message arrived over the socket: newer than what the list shows → new preview, unread +1, to the top.
  applyMessage(message, own) {
    const conversation = this.get(message.group_id);
    if (!conversation) {
      this.reloadSoon();  // a conversation this page has not seen yet
      return;
    }
    const last = conversation.last_message;
    if (last && last.seq >= message.seq) return;
    conversation.last_message = { id: message.id, seq: message.seq, type: message.type,
                                  preview: messageSummary(message),
                                  sender_id: message.sender ? message.sender.id : null,
                                  created_at: message.created_at };
    conversation.updated_at = message.created_at;
    if (!own && message.group_id !== this.openGroupId) conversation.unread_count += 1;
    this.items = [conversation, ...this.items.filter((c) => c !== conversation)];
    this.render();
  }

  // Our read marker moved (this tab or another device).
  applyRead(groupId, seq) {
    this.readUpTo.set(groupId, Math.max(seq, this.readUpTo.get(groupId) || 0));
    const conversation = this.get(groupId);
    if (!conversation) return;
    this._capUnread(conversation);
    this.render();
  }

  _capUnread(conversation) {
    const read = this.readUpTo.get(conversation.group_id);
    if (conversation.group_id === this.openGroupId) conversation.unread_count = 0;
    else if (read !== undefined) {
      const lastSeq = conversation.last_message ? conversation.last_message.seq : 0;
      conversation.unread_count = Math.max(0, Math.min(conversation.unread_count, lastSeq - read));
    }
  }

  applyPresence(userId, online) {
    let changed = false;
    for (const c of this.items) {
      if (c.peer && c.peer.id === userId && c.peer.online !== online) {
        c.peer.online = online;
        changed = true;
      }
    }
    if (changed) this.render();
  }

  render() {
    clear(this.el);
    this.emptyEl.classList.toggle("hidden", this.items.length > 0);
    for (const c of this.items) this.el.append(this.row(c));
  }

  row(c) {
    const listing = c.listing;
    const title = conversationTitle(c);
    const many = c.kind === "group" || c.kind === "room";
    const cover = listing && listing.cover_url
      ? h("img", { class: "cover", src: listing.cover_url, alt: "" })
      : h("div", { class: "cover" }, many ? "群" : "聊");
    const status = listing ? STATUS[listing.status] : "";
    return h("li", {
      class: `conversation${c.group_id === this.openGroupId ? " active" : ""}`,
      dataset: { groupId: c.group_id, unread: c.unread_count, kind: c.kind },
      onclick: () => this.onOpen(c),
    },
      cover,
      h("div", { class: "body" },
        h("div", { class: "line" },
          c.peer ? h("span", { class: `online-dot${c.peer.online ? " on" : ""}`,
                               title: c.peer.online ? "在线 online" : "离线 offline" }) : null,
          h("span", { class: "title" }, title),
          many ? h("span", { class: "muted member-count" }, `(${c.member_count})`) : null,
          listing && listing.kind === "sale" ? h("span", { class: "price" }, yuan(listing.price_cents)) : null,
          status ? h("span", { class: "tag" }, status) : null),
        h("div", { class: "line" },
          h("span", { class: "preview" }, c.last_message ? c.last_message.preview : "暂无消息"),
          h("span", { class: "time" }, shortTime(c.updated_at)),
          c.unread_count > 0 ? h("span", { class: "badge unread" }, c.unread_count > 99 ? "99+" : c.unread_count)
            : null)));
  }
}

// What a conversation is called: its listing, its peer, or its group's or room's name.
export function conversationTitle(c) {
  if (c.listing) return c.listing.title;
  if (c.peer) return c.peer.nickname;
  return c.name || `群聊 #${c.group_id}`;
}
