// The logged-in session of a page (/chat or /admin): the token in localStorage, the login form, logging out.
import { createApi } from "/web/api.js";
import { $ } from "/web/dom.js";

export class Session {
  constructor(name) {
    this.key = `paipai.${name}.session`;        // {token, user}
    this.flashKey = `paipai.${name}.flash`;     // why the last session ended, shown on the login form
    this.data = JSON.parse(localStorage.getItem(this.key) || "null");
    this.onEnd = null;                          // the page's clean-up (close its socket)
    this.api = createApi({ getToken: () => this.data && this.data.token,
                           onUnauthorized: () => this.end("登录已失效,请重新登录 (session ended)", false) });
  }

  get user() {
    return this.data && this.data.user;
  }

  get token() {
    return this.data && this.data.token;
  }

  // End the session and start the page afresh (nothing of the last user survives); revoke: DELETE /token.
  async end(message = "", revoke = true) {
    if (this.onEnd) this.onEnd();
    if (this.data && revoke) await this.api.del("/token").catch(() => {});
    this.data = null;
    localStorage.removeItem(this.key);
    sessionStorage.setItem(this.flashKey, message);
    location.reload();
  }

  // Wire #login-form and #logout, then start the page when logged in. refuse(user) returns why a user may
  // not use this page (their fresh token is revoked at once), or null.
  boot(start, refuse = () => null) {
    $("#login-form").addEventListener("submit", (event) => this._login(event, start, refuse));
    $("#logout").addEventListener("click", () => this.end());
    const flash = sessionStorage.getItem(this.flashKey) || "";
    sessionStorage.removeItem(this.flashKey);
    if (this.user) this._start(start);
    else showLogin(flash);
  }

  async _login(event, start, refuse) {
    event.preventDefault();
    const form = event.target;
    try {
      const token = await this.api.login(form.username.value.trim(), form.password.value);
      this.data = { token: token.access_token, user: token.user };
      const refusal = refuse(token.user);
      if (refusal) {
        await this.api.del("/token").catch(() => {});
        this.data = null;
        showLogin(refusal);
        return;
      }
      localStorage.setItem(this.key, JSON.stringify(this.data));
      form.password.value = "";
      await this._start(start);
    } catch (err) {
      showLogin(err.code === "banned" ? "账号已被封禁 (banned)" : err.message);
    }
  }

  async _start(start) {
    $("#login").classList.add("hidden");
    $("#main").classList.remove("hidden");
    $("#me").textContent = `${this.user.nickname} (@${this.user.username})`;
    try {
      await start(this.user);
    } catch (err) {
      showLogin(err.message);
    }
  }
}

function showLogin(message = "") {
  $("#main").classList.add("hidden");
  $("#login").classList.remove("hidden");
  $("#login-error").textContent = message;
}
