"use strict";
// The real server the tests talk to: PAIPAI_TEST_URL when pytest started one (make test), otherwise the app
// served by serve.py for this test file. Plus a few direct REST calls (users, groups, history) of the tests.
const { spawn } = require("child_process");
const path = require("path");
const fs = require("fs");
const os = require("os");

const ROOT = path.resolve(__dirname, "../../..");
let started = null;

function serverUrl() {
  if (process.env.PAIPAI_TEST_URL) return Promise.resolve(process.env.PAIPAI_TEST_URL);
  if (!started) {
    started = new Promise((resolve, reject) => {
      const python = fs.existsSync(path.join(ROOT, ".venv/bin/python")) ? path.join(ROOT, ".venv/bin/python") : "python3";
      const child = spawn(python, [path.join(__dirname, "serve.py")], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
      child.unref();
      process.on("exit", () => child.kill("SIGTERM"));
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const line = out.split("\n")[0];
        if (!out.includes("\n")) return;
        child.stdout.removeAllListeners("data");
        child.stdout.unref();  // the test process may exit while the server still runs (killed on exit)
        child.stdin.unref();   // held open until this process ends: the server stops at its EOF
        resolve(line.trim());
      });
      child.on("exit", (code) => reject(new Error(`serve.py exited with ${code}`)));
    });
  }
  return started;
}

async function call(method, pathName, { token, json } = {}) {
  const base = await serverUrl();
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${base}/api/v1${pathName}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status >= 400) throw new Error(`${method} ${pathName}: ${response.status} ${text}`);
  return data;
}

let counter = 0;
const PASSWORD = "sdk-test-password";

// A new user with a token: {id, username, password, token}.
async function newUser(nickname) {
  counter += 1;
  const username = `sdk${process.pid}x${counter}x${Math.floor(Math.random() * 1e6)}`;
  await call("POST", "/users", { json: { username, password: PASSWORD, nickname: nickname || username } });
  const token = await call("POST", "/token", { json: { grant_type: "password", username, password: PASSWORD } });
  return { id: token.user.id, username, password: PASSWORD, token: token.access_token, user: token.user };
}

// Every message of a group, oldest first (paged through the REST history).
async function allMessages(groupId, token) {
  const out = [];
  let after = 0;
  for (;;) {
    const page = await call("GET", `/groups/${groupId}/messages?after_seq=${after}&limit=100`, { token });
    out.push(...page.items);
    if (page.items.length < 100) return out;
    after = page.items[page.items.length - 1].seq;
  }
}

// Wait for a condition (polling); throws with `what` when it does not come true in time.
async function until(predicate, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (await predicate()) return;
  throw new Error(`timed out waiting for ${typeof what === "function" ? what() : what}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "paipai-sdk-test-"));
}

module.exports = { serverUrl, call, newUser, allMessages, until, sleep, tempDir, PASSWORD };
