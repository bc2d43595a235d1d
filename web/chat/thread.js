// The open conversation of /chat: history (older pages on scroll), live messages, sending, reading — all
// through the chat SDK's client.
import { clear, h, toast, yuan } from "/web/dom.js";
import { MessageList } from "/web/messages.js";
import { conversationTitle } from "/chat/conversations.js";

const ROLE_TEXT = { owner: "群主", admin: "管理员", member: "成员" };
// Membership events as a line in an open room (user groups get the server's `system` messages instead).
const EVENT_TEXT = { member_joined: "加入了聊天室", member_left: "离开了聊天室", member_removed: "被移出了聊天室",
                     member_muted: "被禁言", role_changed: "的角色已变更" };

const PAGE = 30;

export class Thread {
  constructor({ client, me, api, els }) {
    this.client = client;
    this.api = api;          // REST for what the SDK does not cover (a user group's members)
    this.me = me;
    this.els = els;          // {main, empty, head, messages, composer, text, image}
    this.conversation = null;
    this.list = null;
    this.hasOlder = false;
    this.loadingOlder = false;
    els.messages.addEventListener("scroll", () => {
      if (els.messages.scrollTop < 40) this.loadOlder();
    });
    els.composer.addEventListener("submit", (e) => {
      e.preventDefault();
      this.sendText();
    });
    els.image.addEventListener("change", () => this.sendImage());
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  get groupId() {
    return this.conversation ? this.conversation.group_id : null;
  }

  async open(conversation) {
    this.conversation = conversation;
    this.els.empty.classList.add("hidden");
    this.els.main.classList.remove("hidden");
    this.renderHead();
    clear(this.els.messages);
    this.list = new MessageList(this.els.messages, { isOwn: (m) => Boolean(m.sender && m.sender.id === this.me.id) });
    const groupId = conversation.group_id;
    const page = await this.client.history(groupId, { limit: PAGE });
    if (this.groupId !== groupId) return;  // another conversation was opened meanwhile
    page.items.forEach((m) => this.list.add(m));
    this.hasOlder = page.next_cursor !== null;
    for (const pending of this.client.pendingSends()) {  // restored from storage too: still on their way
      if (pending.group_id !== groupId) continue;
      this.watch(pending.promise, pending.client_id);
      this.list.addPending(pending, this.me);
    }
    this.scrollToEnd();
    this.markRead();
    this.showPeerRead(this.client.conversations().find((c) => c.group_id === groupId));
  }

  // "已读" on our messages up to the peer's read marker (peer_read_seq: from the list, moved by their reads).
  showPeerRead(conversation) {
    if (!this.list || !conversation || conversation.group_id !== this.groupId) return;
    const upTo = conversation.peer_read_seq || 0;
    for (const node of this.els.messages.querySelectorAll("li.msg.own[data-seq]")) {
      node.classList.toggle("read", Number(node.dataset.seq) <= upTo);
    }
  }

  renderHead() {
    const c = this.conversation;
    const listing = c.listing;
    const many = c.kind === "group" || c.kind === "room";
    this.members = h("ul", { class: "members", id: "thread-members" });
    clear(this.els.head).append(...[
      h("span", { class: "title" }, conversationTitle(c)),
      many ? h("span", { class: "muted", id: "thread-member-count" }, `${c.member_count} 人`) : null,
      many ? h("span", { class: "tag", id: "thread-role" }, ROLE_TEXT[c.role] || c.role) : null,
      listing && listing.kind === "sale" ? h("span", { class: "price" }, yuan(listing.price_cents)) : null,
      c.peer ? h("span", { class: "muted" }, `与 ${c.peer.nickname}`) : null,
      c.read_only ? h("span", { class: "tag" }, "只读 read-only") : null,
      c.kind === "group" ? this.members : null].filter(Boolean));
    for (const input of this.els.composer.elements) input.disabled = Boolean(c.read_only);
    if (c.kind === "group") this.loadMembers();
  }

  // A user group's members and their roles (the first 100, owners and admins first).
  async loadMembers() {
    const groupId = this.groupId;
    const members = this.members;
    try {
      const group = await this.api.get(`/groups/${groupId}`);
      if (this.groupId !== groupId) return;
      $count(this.els.head, group.member_count);
      clear(members).append(...group.members.map((m) => h("li", { dataset: { userId: m.user.id, role: m.role } },
        m.user.nickname, m.role !== "member" ? h("span", { class: "tag" }, ROLE_TEXT[m.role]) : null)));
    } catch (_err) {
      // Removed from the group or it was dissolved: the conversation list drops it on its reload.
    }
  }

  // A membership event: refresh the open group's members; an open room shows it as a line.
  showEvent(type, data) {
    if (!this.list || data.group_id !== this.groupId) return;
    if (data.member_count !== undefined) {
      this.conversation.member_count = data.member_count;
      $count(this.els.head, data.member_count);
    }
    if (this.conversation.kind === "group") this.loadMembers();
    else if (EVENT_TEXT[type]) {
      const who = data.user_ids ? data.user_ids.map((id) => `#${id}`).join("、") : `#${data.user_id}`;
      this.els.messages.append(h("li", { class: "event-line muted", dataset: { event: type } },
                                 `用户 ${who} ${EVENT_TEXT[type]}`));
      if (this.isAtEnd()) this.scrollToEnd();
    }
    if ((type === "member_removed" && data.user_id === this.me.id) || type === "group_dissolved") {
      this.conversation.read_only = true;
      for (const input of this.els.composer.elements) input.disabled = true;
    }
  }

  async loadOlder() {
    if (!this.list || !this.hasOlder || this.loadingOlder) return;
    this.loadingOlder = true;
    const groupId = this.groupId;
    const box = this.els.messages;
    try {
      const page = await this.client.history(groupId, { beforeSeq: this.list.firstSeq, limit: PAGE });
      if (this.groupId !== groupId) return;
      const fromBottom = box.scrollHeight - box.scrollTop;
      page.items.forEach((m) => this.list.add(m));
      this.hasOlder = page.next_cursor !== null;
      box.scrollTop = box.scrollHeight - fromBottom;  // keep what the user was looking at in place
    } finally {
      this.loadingOlder = false;
    }
  }

  // A live or replayed message of this conversation (already deduped by the SDK; the list dedupes again
  // against history pages).
  async showMessage(message) {
    if (message.group_id !== this.groupId) return;
    const gap = this.list.lastSeq && message.seq > this.list.lastSeq + 1;
    if (gap) await this.fillGap(message.seq);
    const atEnd = this.isAtEnd();
    this.list.add(message);
    this.showPeerRead(this.client.conversations().find((c) => c.group_id === this.groupId));
    if (atEnd || (message.sender && message.sender.id === this.me.id)) this.scrollToEnd();
    this.markRead();
  }

  // Room messages are live only: what came while we were away is read from history.
  async fillGap(beforeSeq) {
    const page = await this.client.history(this.groupId, { afterSeq: this.list.lastSeq, limit: 100 });
    page.items.filter((m) => m.seq < beforeSeq).forEach((m) => this.list.add(m));
  }

  replaceMessage(message) {
    if (!this.list || message.group_id !== this.groupId) return;
    this.list.replace(message);
    this.showPeerRead(this.client.conversations().find((c) => c.group_id === this.groupId));
  }

  sendFailed(clientId, error) {
    if (this.list) this.list.failPending(clientId);
    toast(`发送失败: ${error.message || error.code}`, "error");
  }

  sendText() {
    const text = this.els.text.value.trim();
    if (!text || !this.conversation) return;
    this.els.text.value = "";
    this.queue("txt", { text });
  }

  async sendImage() {
    const file = this.els.image.files[0];
    this.els.image.value = "";
    if (!file || !this.conversation) return;
    const groupId = this.groupId;
    try {
      const [upload, size] = await Promise.all([this.client.upload(file), imageSize(file)]);
      this.queue("img", { url: upload.url, ...size }, groupId);
    } catch (err) {
      toast(`图片上传失败: ${err.message}`, "error");
    }
  }

  // Into the SDK's persisted outbox: shown as pending until stored, marked failed if the server refuses it.
  queue(type, body, groupId = this.groupId) {
    const sent = this.client.send(groupId, type, body);
    this.watch(sent, sent.clientId);
    if (groupId === this.groupId) {
      this.list.addPending({ client_id: sent.clientId, group_id: groupId, type, body }, this.me);
      this.scrollToEnd();
    }
  }

  watch(promise, clientId) {
    if (this.watched && this.watched.has(clientId)) return;
    (this.watched = this.watched || new Set()).add(clientId);
    promise.catch((error) => this.sendFailed(clientId, error));
  }

  // Read up to the last message shown, when the page is visible (the SDK: the socket when live, else REST).
  markRead() {
    if (!this.list || document.visibilityState !== "visible") return;
    const seq = this.list.lastSeq;
    const groupId = this.groupId;
    if (!seq || (seq <= (this.readSeq || 0) && this.readGroup === groupId)) return;
    this.readSeq = seq;
    this.readGroup = groupId;
    this.client.markRead(groupId, seq).catch(() => {});
  }

  isAtEnd() {
    const box = this.els.messages;
    return box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  }

  scrollToEnd() {
    this.els.messages.scrollTop = this.els.messages.scrollHeight;
  }
}

function imageSize(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { resolve({ width: img.naturalWidth, height: img.naturalHeight }); URL.revokeObjectURL(url); };
    img.onerror = () => { resolve({}); URL.revokeObjectURL(url); };
    img.src = url;
  });
}

function $count(head, count) {
  const el = head.querySelector("#thread-member-count");
  if (el) el.textContent = `${count} 人`;
}
