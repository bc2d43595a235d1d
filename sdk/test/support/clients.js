"use strict";
// SDK clients for the tests: the WeChat adapter on a test `wx`, logged in as a test user, with their events kept.
const { createClient } = require("../../adapters/wechat.js");
const { createWx } = require("./wx.js");
const { serverUrl, until } = require("./server.js");

const FAST = { hideGraceMs: 100, backoff: { baseMs: 50, maxMs: 1000 }, pingTimeoutMs: 3000, helloTimeoutMs: 3000 };

// A mini-program "run": its wx, its client and what the client told it ({messages, states, errors, ...}).
async function wechatRun({ user, storage, options = {}, login = true } = {}) {
  const wx = createWx({ storage });
  const client = createClient(Object.assign({ wx, baseUrl: await serverUrl() }, FAST, options));
  const seen = { messages: [], acks: [], states: [], errors: [], recalls: [], reads: [], typing: [], presence: [], conversations: 0 };
  client.on("message", (m, info) => seen.messages.push(Object.assign({ own: info.own }, m)));
  client.on("ack", (m) => seen.acks.push(m));
  client.on("state", (s, reason) => seen.states.push([s, reason]));
  client.on("error", (e) => seen.errors.push(e));
  client.on("recall", (m) => seen.recalls.push(m));
  client.on("read", (d) => seen.reads.push(d));
  client.on("typing", (d) => seen.typing.push(d));
  client.on("presence", (d) => seen.presence.push(d));
  client.on("conversations", () => { seen.conversations += 1; });
  if (login && user) await client.login({ username: user.username, password: user.password });
  return { wx, client, seen };
}

async function live(run, what = "live") {
  await until(() => run.client.state === "live", what);
}

const texts = (messages) => messages.map((m) => m.body.text);

module.exports = { wechatRun, live, texts, FAST };
