// /admin: log in as an admin (the token's user must have role "admin"), then one screen at a time,
// chosen by the URL's #hash. Screens use only the REST API and the admin's own /ws connection.
import { createApi } from "/web/api.js";
import { $, toast } from "/web/dom.js";
import { ChatClient } from "/chat/paipai-chat.js";
import * as audit from "/admin/screens/audit.js";
import * as groups from "/admin/screens/groups.js";
import * as keywords from "/admin/screens/keywords.js";
import * as listings from "/admin/screens/listings.js";
import * as reports from "/admin/screens/reports.js";
import * as users from "/admin/screens/users.js";

const SCREENS = { reports, listings, users, groups, keywords, audit };
const SESSION_KEY = "paipai.admin.session";
const FLASH_KEY = "paipai.admin.flash";

let session = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
const api = createApi({ getToken: () => session && session.token,
                        onUnauthorized: () => logout("登录已失效,请重新登录 (session ended)", false) });
const ctx = { api, me: null, client: null };

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
    if (token.user.role !== "admin") {
      session = { token: token.access_token };
      await api.del("/token").catch(() => {});  // not an admin: don't leave the token behind
      session = null;
      showLogin("需要管理员账号 (administrators only)");
      return;
    }
    session = { token: token.access_token, user: token.user };
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    form.password.value = "";
    start();
  } catch (err) {
    $("#login-error").textContent = err.message;
  }
}

async function logout(message = "", revoke = true) {
  if (ctx.client) ctx.client.close();
  if (session && revoke) await api.del("/token").catch(() => {});
  session = null;
  localStorage.removeItem(SESSION_KEY);
  sessionStorage.setItem(FLASH_KEY, message);
  location.reload();
}

// The screen named by the hash (reports by default); a screen's render(root, ctx) fills #screen.
async function route() {
  const name = location.hash.slice(1).split("/")[0] || "reports";
  const screen = SCREENS[name] || reports;
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.screen === name);
  }
  if (ctx.leave) ctx.leave();  // the last screen's clean-up (e.g. an open conversation's listener)
  ctx.leave = null;
  const root = $("#screen");
  root.dataset.screen = name;
  root.dataset.ready = "";
  try {
    await screen.render(root, ctx);
  } catch (err) {
    toast(err.message, "error");
  }
  root.dataset.ready = name;  // tests wait for this
}

function start() {
  ctx.me = session.user;
  $("#login").classList.add("hidden");
  $("#main").classList.remove("hidden");
  $("#me").textContent = `${ctx.me.nickname} (@${ctx.me.username})`;
  // The admin's own socket: live messages of the groups the admin is in (rooms they made or joined).
  ctx.client = new ChatClient({ token: session.token, userId: ctx.me.id, storage: sessionStorage });
  ctx.client.addEventListener("status", (e) => { $("#conn-dot").className = `status-dot status-${e.detail.status}`; });
  ctx.client.addEventListener("ended", () => logout("登录已失效 (session ended)", false));
  ctx.client.connect();
  window.addEventListener("hashchange", route);
  route();
}

$("#login-form").addEventListener("submit", login);
$("#logout").addEventListener("click", () => logout());
const flash = sessionStorage.getItem(FLASH_KEY) || "";
sessionStorage.removeItem(FLASH_KEY);
if (session) start();
else showLogin(flash);
