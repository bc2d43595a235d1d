// /chat: log in, then wire the conversation list and the open conversation to the chat client.
import { $, toast } from "/web/dom.js";
import { Session } from "/web/session.js";
import { ChatClient, Status } from "/chat/paipai-chat.js";
import { ConversationList } from "/chat/conversations.js";
import { Thread } from "/chat/thread.js";

const STATUS_TEXT = { [Status.CONNECTING]: "连接中…", [Status.ONLINE]: "在线", [Status.OFFLINE]: "离线",
                      [Status.ENDED]: "已断开" };

// Membership events of user groups and rooms (member_joined, role_changed, group_dissolved, ...).
const MEMBER_EVENTS = new Set(["member_joined", "member_left", "member_removed", "role_changed", "member_muted",
                               "group_renamed", "group_dissolved"]);

const session = new Session("chat");
const { api } = session;

function setStatus(status) {
  $("#conn-dot").className = `status-dot status-${status}`;
  $("#conn-text").textContent = STATUS_TEXT[status] || status;
  document.body.dataset.connection = status;  // tests and styles read it
}

async function start(me) {
  const client = new ChatClient({ token: session.token, userId: me.id });
  session.onEnd = () => client.close();
  const conversations = new ConversationList({
    api, me, listEl: $("#conversation-list"), emptyEl: $("#conversation-empty"),
    onOpen: (c) => openConversation(c),
  });
  const thread = new Thread({
    api, client, me,
    els: { main: $("#thread-main"), empty: $("#thread-empty"), head: $("#thread-head"), messages: $("#messages"),
           composer: $("#composer"), text: $("#text-input"), image: $("#image-input") },
    onRead: (groupId, seq) => conversations.applyRead(groupId, seq),
  });

  function openConversation(c) {
    conversations.setOpen(c.group_id);
    thread.open(c).catch((err) => toast(err.message, "error"));
  }

  client.addEventListener("status", (e) => setStatus(e.detail.status));
  client.addEventListener("message", (e) => {
    const { message, own } = e.detail;
    conversations.applyMessage(message, own);
    thread.showMessage(message);
  });
  client.addEventListener("sendfailed", (e) => thread.sendFailed(e.detail.clientId, e.detail.error));
  client.addEventListener("synced", () => conversations.reloadSoon());  // badges as the server counts them
  client.addEventListener("event", (e) => {
    const { type, data } = e.detail;
    if (type === "read" && data.user_id === me.id) conversations.applyRead(data.group_id, data.seq);
    else if (type === "presence") conversations.applyPresence(data.user_id, data.online);
    else if (type === "recall") thread.replaceMessage(data.message);
    else if (type === "listing" || type === "group" || type === "member") conversations.reloadSoon();
    else if (MEMBER_EVENTS.has(type)) {
      thread.showEvent(type, data);
      conversations.reloadSoon();
    }
  });
  client.addEventListener("ended", (e) => {
    session.end(e.detail.code === 4403 ? "账号已被封禁 (banned)" : "登录已失效,请重新登录 (session ended)", false);
  });
  $("#refresh").addEventListener("click", () => conversations.reload());
  // Ask the seller about a listing: POST /listings/{id}/inquiries opens (or returns) the item chat.
  $("#inquiry-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("#inquiry-listing");
    try {
      const group = await api.post(`/listings/${Number(input.value)}/inquiries`);
      input.value = "";
      await conversations.reload();
      const opened = conversations.get(group.id);
      if (opened) openConversation(opened);
    } catch (err) {
      toast(err.message, "error");
    }
  });
  // The one direct chat with another user: POST /users/{id}/direct opens (or returns) it.
  $("#direct-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("#direct-user");
    try {
      const group = await api.post(`/users/${Number(input.value)}/direct`);
      input.value = "";
      await conversations.reload();
      const opened = conversations.get(group.id);
      if (opened) openConversation(opened);
    } catch (err) {
      toast(err.message, "error");
    }
  });
  // A new user group: a name and the ids of the users invited; the creator owns it.
  $("#group-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("#group-name");
    const ids = $("#group-members").value.split(/[\s,,]+/).filter(Boolean).map(Number);
    try {
      const group = await api.post("/groups", { name: name.value.trim(), member_ids: ids });
      name.value = "";
      $("#group-members").value = "";
      await conversations.reload();
      const opened = conversations.get(group.id);
      if (opened) openConversation(opened);
    } catch (err) {
      toast(err.message, "error");
    }
  });
  await conversations.reload();
  client.connect();
}

session.boot(start);
