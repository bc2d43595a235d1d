// The conversation list of /chat: drawn from the SDK's list (GET /conversations, kept current by the socket).
import { clear, h, shortTime, yuan } from "/web/dom.js";

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

  row(c) {
    const listing = c.listing;
    const title = listing ? listing.title : (c.peer ? c.peer.nickname : `群聊 #${c.group_id}`);
    const cover = listing && listing.cover_url
      ? h("img", { class: "cover", src: listing.cover_url, alt: "" })
      : h("div", { class: "cover" }, c.kind === "room" ? "群" : "聊");
    const status = listing ? STATUS[listing.status] : "";
    return h("li", {
      class: `conversation${c.group_id === this.openGroupId ? " active" : ""}`,
      dataset: { groupId: c.group_id, unread: c.unread_count },
      onclick: () => this.onOpen(c),
    },
      cover,
      h("div", { class: "body" },
        h("div", { class: "line" },
          c.peer ? h("span", { class: `online-dot${c.peer.online ? " on" : ""}`,
                               title: c.peer.online ? "在线 online" : "离线 offline" }) : null,
          h("span", { class: "title" }, title),
          listing && listing.kind === "sale" ? h("span", { class: "price" }, yuan(listing.price_cents)) : null,
          status ? h("span", { class: "tag" }, status) : null),
        h("div", { class: "line" },
          h("span", { class: "preview" }, c.last_message ? c.last_message.preview : "暂无消息"),
          h("span", { class: "time" }, shortTime(c.updated_at)),
          c.unread_count > 0 ? h("span", { class: "badge unread" }, c.unread_count > 99 ? "99+" : c.unread_count)
            : null)));
  }
}
