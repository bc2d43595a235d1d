// The conversation list of /chat: drawn from the SDK's list (GET /conversations, kept current by the socket),
// pinned chats first, muted ones dimmed (not in the total badge), each with its pin and mute toggles.
import { clear, h, shortTime, toast, yuan } from "/web/dom.js";

const STATUS = { active: "", reserved: "已预订", sold: "已售出", given: "已送出", withdrawn: "已下架",
                 removed: "已删除", pending_review: "审核中", rejected: "未通过" };

export class ConversationList {
  constructor({ client, listEl, emptyEl, onOpen }) {
    this.client = client;
    this.el = listEl;
    this.emptyEl = emptyEl;
    this.onOpen = onOpen;
    this.openGroupId = null;
  }

  get(groupId) {
    return this.client.conversations().find((c) => c.group_id === groupId) || null;
  }

  // The conversation on screen: the SDK stops counting its messages as unread.
  setOpen(groupId) {
    this.openGroupId = groupId;
    this.client.setActiveConversation(groupId);
    this.render();
  }

  render() {
    const items = this.client.conversations();
    clear(this.el);
    this.emptyEl.classList.toggle("hidden", items.length > 0);
    for (const c of items) this.el.append(this.row(c));
  }

  // PUT /conversations/{id} through the SDK; it re-reads the list, whose event redraws it.
  toggle(event, c, flag) {
    event.stopPropagation();  // not a click on the row: the chat stays as it is
    const call = flag === "pinned" ? this.client.pin(c.group_id, !c.pinned) : this.client.mute(c.group_id, !c.muted);
    call.catch((err) => toast(err.code === "pin_limit" ? "最多置顶 10 个会话 (at most 10 pinned)" : err.message, "error"));
  }

  // Item, direct and group chats: rooms can't be muted or pinned.
  flags(c) {
    if (c.kind === "room") return null;
    return h("span", { class: "flags" },
      h("button", { type: "button", class: `flag pin${c.pinned ? " on" : ""}`, title: c.pinned ? "取消置顶 Unpin" : "置顶 Pin",
                    "aria-pressed": c.pinned ? "true" : "false", onclick: (e) => this.toggle(e, c, "pinned") }, "置顶"),
      h("button", { type: "button", class: `flag mute${c.muted ? " on" : ""}`, title: c.muted ? "取消免打扰 Unmute" : "免打扰 Mute",
                    "aria-pressed": c.muted ? "true" : "false", onclick: (e) => this.toggle(e, c, "muted") }, "免打扰"));
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
      class: `conversation${c.group_id === this.openGroupId ? " active" : ""}${c.pinned ? " pinned" : ""}${c.muted ? " muted-chat" : ""}`,
      dataset: { groupId: c.group_id, unread: c.unread_count, kind: c.kind, pinned: Boolean(c.pinned), muted: Boolean(c.muted) },
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
          status ? h("span", { class: "tag" }, status) : null,
          this.flags(c)),
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
