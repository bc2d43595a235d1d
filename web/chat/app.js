// /chat: log in, then wire the conversation list and the open conversation to the chat SDK (sdk/, the same
// client library the mini-program uses, loaded by /web/sdk-loader.js).
import { $, toast } from "/web/dom.js";
import { Session } from "/web/session.js";
import { ConversationList } from "/chat/conversations.js";
import { Thread } from "/chat/thread.js";

const STATE_TEXT = { connecting: "连接中…", live: "在线", offline: "离线" };
// Membership events of user groups and rooms (member_joined, role_changed, group_dissolved, ...).
const MEMBER_EVENTS = new Set(["member_joined", "member_left", "member_removed", "role_changed", "member_muted",
                               "group_renamed", "group_dissolved"]);

const session = new Session("chat");
const { api } = session;

function setState(state) {
  $("#conn-dot").className = `status-dot status-${state}`;
  $("#conn-text").textContent = STATE_TEXT[state] || state;
  document.body.dataset.connection = state;  // tests and styles read it
}

// The total unread of every chat that is not muted (a mini-program's tab badge).
function setBadge(total) {
  const badge = $("#unread-total");
  badge.textContent = total > 99 ? "99+" : String(total);
  badge.dataset.total = String(total);
  badge.classList.toggle("hidden", total === 0);
  document.title = total > 0 ? `(${total}) 拍拍二手 · 聊天` : "拍拍二手 · 聊天 (PaiPai chat)";
}

async function start(me) {
  const sdk = await globalThis.paipaiSdk.load("adapters/browser.js");
  const client = sdk.createClient({ storagePrefix: "paipai.chat.sdk" });
  client.useToken(session.token, me);
  session.onEnd = () => client.destroy();
  const conversations = new ConversationList({
    client, listEl: $("#conversation-list"), emptyEl: $("#conversation-empty"),
    onOpen: (c) => openConversation(c),
  });
  const thread = new Thread({
    client, me, api,
    els: { main: $("#thread-main"), empty: $("#thread-empty"), head: $("#thread-head"), messages: $("#messages"),
           composer: $("#composer"), text: $("#text-input"), image: $("#image-input") },
  });

  function openConversation(c) {
    conversations.setOpen(c.group_id);
    thread.open(c).catch((err) => toast(err.message, "error"));
  }

  client.on("state", (state) => setState(state));
  client.on("conversations", () => {
    conversations.render();
    thread.showPeerRead(conversations.get(thread.groupId));
  });
  client.on("unread", (total) => setBadge(total));
  client.on("message", (message) => thread.showMessage(message));
  client.on("recall", (message) => thread.replaceMessage(message));
  client.on("event", ({ type, data }) => {
    if (!MEMBER_EVENTS.has(type)) return;
    thread.showEvent(type, data);
    client.loadConversations().catch(() => {});  // names, member counts and memberships as they are now
  });
  client.on("error", (error) => {
    if (error.fatal) session.end(error.code === "banned" ? "账号已被封禁 (banned)" : "登录已失效,请重新登录 (session ended)", false);
  });
  $("#refresh").addEventListener("click", () => client.loadConversations().catch((err) => toast(err.message, "error")));
  // Ask the seller about a listing: POST /listings/{id}/inquiries opens (or returns) the item chat.
  $("#inquiry-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("#inquiry-listing");
    try {
      const group = await client.openInquiry(Number(input.value));
      input.value = "";
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
      const group = await client.openDirect(Number(input.value));
      input.value = "";
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
      await client.loadConversations();
      const opened = conversations.get(group.id);
      if (opened) openConversation(opened);
    } catch (err) {
      toast(err.message, "error");
    }
  });
  await client.loadConversations();
  client.connect();
}

session.boot(start);
