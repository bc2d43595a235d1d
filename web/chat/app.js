// /chat: log in, then wire the conversation list and the open conversation to the chat client.
import { createApi } from "/web/api.js";
import { $, toast } from "/web/dom.js";
import { ChatClient, Status } from "/chat/paipai-chat.js";
import { ConversationList } from "/chat/conversations.js";
import { Thread } from "/chat/thread.js";

const SESSION_KEY = "paipai.chat.session";  // {token, user} of the logged-in user
const FLASH_KEY = "paipai.chat.flash";      // why the last session ended, shown on the login form
const STATUS_TEXT = { [Status.CONNECTING]: "连接中…", [Status.ONLINE]: "在线", [Status.OFFLINE]: "离线",
                      [Status.ENDED]: "已断开" };

let session = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
let client = null;
const api = createApi({ getToken: () => session && session.token,
                        onUnauthorized: () => logout("登录已失效,请重新登录 (session ended)", false) });

function showLogin(message = "") {
  $("#main").classList.add("hidden");
  $("#login").classList.remove("hidden");
  $("#login-error").textContent = message;
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  try {
    const token = await api.login(form.username.value.trim(), form.password.value);
    session = { token: token.access_token, user: token.user };
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    form.password.value = "";
    await start();
  } catch (err) {
    $("#login-error").textContent = err.code === "banned" ? "账号已被封禁 (banned)" : err.message;
  }
}

// End the session and start the page afresh (no state of the last user survives).
async function logout(message = "", revoke = true) {
  if (client) client.close();
  client = null;
  if (session && revoke) await api.del("/token").catch(() => {});
  session = null;
  localStorage.removeItem(SESSION_KEY);
  sessionStorage.setItem(FLASH_KEY, message);
  location.reload();
}

function setStatus(status) {
  $("#conn-dot").className = `status-dot status-${status}`;
  $("#conn-text").textContent = STATUS_TEXT[status] || status;
  document.body.dataset.connection = status;  // tests and styles read it
}

async function start() {
  const me = session.user;
  $("#login").classList.add("hidden");
  $("#main").classList.remove("hidden");
  $("#me").textContent = `${me.nickname} (@${me.username})`;
  client = new ChatClient({ token: session.token, userId: me.id });
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
  });
  client.addEventListener("ended", (e) => {
    logout(e.detail.code === 4403 ? "账号已被封禁 (banned)" : "登录已失效,请重新登录 (session ended)", false);
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
  await conversations.reload();
  client.connect();
}

$("#login-form").addEventListener("submit", login);
$("#logout").addEventListener("click", () => logout());
const flash = sessionStorage.getItem(FLASH_KEY) || "";
sessionStorage.removeItem(FLASH_KEY);
if (session) start().catch((err) => showLogin(err.message));
else showLogin(flash);
