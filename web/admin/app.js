// /admin: log in as an admin (the token's user must have role "admin"), then one screen at a time,
// chosen by the URL's #hash. Screens use only the REST API and the admin's own /ws connection.
import { $, toast } from "/web/dom.js";
import { Session } from "/web/session.js";
import * as audit from "/admin/screens/audit.js";
import * as groups from "/admin/screens/groups.js";
import * as keywords from "/admin/screens/keywords.js";
import * as listings from "/admin/screens/listings.js";
import * as reports from "/admin/screens/reports.js";
import * as users from "/admin/screens/users.js";

const SCREENS = { reports, listings, users, groups, keywords, audit };
const session = new Session("admin");
const ctx = { api: session.api, me: null, client: null };

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

async function start(me) {
  ctx.me = me;
  // The admin's own socket (the chat SDK, as /chat): live messages of the groups the admin is in.
  const sdk = await globalThis.paipaiSdk.load("adapters/browser.js");
  ctx.client = sdk.createClient({ storage: sessionStorage, storagePrefix: "paipai.admin.sdk" });
  ctx.client.useToken(session.token, me);
  ctx.client.on("state", (state) => { $("#conn-dot").className = `status-dot status-${state}`; });
  ctx.client.on("error", (error) => { if (error.fatal) session.end("登录已失效 (session ended)", false); });
  session.onEnd = () => ctx.client.destroy();
  ctx.client.connect();
  window.addEventListener("hashchange", route);
  route();
}

session.boot(start, (user) => (user.role === "admin" ? null : "需要管理员账号 (administrators only)"));
