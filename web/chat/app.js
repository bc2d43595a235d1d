// /chat: log in, then wire the conversation list and the open conversation to the chat SDK (sdk/, the same
// client library the mini-program uses, loaded by /web/sdk-loader.js).
import { $, toast } from "/web/dom.js";
import { Session } from "/web/session.js";
import { ConversationList } from "/chat/conversations.js";
import { Thread } from "/chat/thread.js";

const STATE_TEXT = { connecting: "连接中…", live: "在线", offline: "离线" };

const session = new Session("chat");
const { api } = session;

function setState(state) {
  $("#conn-dot").className = `status-dot status-${state}`;
  $("#conn-text").textContent = STATE_TEXT[state] || state;
  document.body.dataset.connection = state;  // tests and styles read it
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
    client, me,
    els: { main: $("#thread-main"), empty: $("#thread-empty"), head: $("#thread-head"), messages: $("#messages"),
           composer: $("#composer"), text: $("#text-input"), image: $("#image-input") },
  });

  function openConversation(c) {
    conversations.setOpen(c.group_id);
    thread.open(c).catch((err) => toast(err.message, "error"));
  }

  client.on("state", (state) => setState(state));
  client.on("conversations", () => conversations.render());
  client.on("message", (message) => thread.showMessage(message));
  client.on("recall", (message) => thread.replaceMessage(message));
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
  await client.loadConversations();
  client.connect();
}

session.boot(start);
