"use strict";
// The WeChat adapter end to end: logins, the socket's auth, sends and acks, live messages, REST helpers.
const test = require("node:test");
const assert = require("node:assert/strict");
const { Client } = require("../core/client.js");
const { wechatPlatform } = require("../adapters/wechat.js");
const { createWx } = require("./support/wx.js");
const { wechatRun, live, texts, FAST } = require("./support/clients.js");
const { call, newUser, serverUrl, until } = require("./support/server.js");

test("two users chat through the WeChat adapter: acks, live messages, unread, read, recall, typing", async () => {
  const [alice, bob] = [await newUser("阿丽"), await newUser("小波")];
  const group = await call("POST", `/users/${bob.id}/direct`, { token: alice.token, json: {} });
  const a = await wechatRun({ user: alice });
  const b = await wechatRun({ user: bob });
  a.client.connect();
  b.client.connect();
  await live(a);
  await live(b);
  assert.deepEqual(a.seen.states.map(([s]) => s), ["connecting", "live"]);

  const stored = await a.client.sendText(group.id, "你好,在吗?");
  assert.equal(stored.seq, 1);
  assert.equal(stored.body.text, "你好,在吗?");
  assert.deepEqual(a.client.pendingSends(), []);
  await until(() => b.seen.messages.length === 1, "bob gets it");
  assert.equal(b.seen.messages[0].id, stored.id);
  assert.equal(b.seen.messages[0].own, false);
  assert.equal(a.seen.messages[0].own, true);  // the sender's own copy, once (the ack)
  await until(() => b.client.conversations().some((c) => c.group_id === group.id && c.unread_count === 1), "bob's unread");
  // The badge is the server's total, told by the `unread` event that follows the message frame.
  await until(() => b.client.unreadTotal() === 1, "bob's badge");

  b.client.typing(group.id);
  await until(() => a.seen.typing.length === 1, "typing reaches alice");
  assert.deepEqual(a.seen.typing[0], { group_id: group.id, user_id: bob.id });

  await b.client.markRead(group.id);
  assert.equal(b.client.conversations()[0].unread_count, 0);
  await until(async () => (await call("GET", "/conversations", { token: bob.token })).items[0].unread_count === 0, "read on the server");

  const recalled = await a.client.recall(group.id, stored.id);
  assert.equal(recalled.recalled, true);
  await until(() => b.seen.recalls.length === 1, "bob sees the recall");
  assert.equal(b.client.messages(group.id)[0].recalled, true);
  assert.equal(b.client.conversations()[0].last_message.preview, "[消息已撤回]");

  const history = await b.client.history(group.id);
  assert.deepEqual(history.items.map((m) => m.seq), [1]);
  assert.deepEqual(b.seen.errors, []);
  a.client.destroy();
  b.client.destroy();
});

test("a refused send rejects with the server's error code and leaves the outbox", async () => {
  const alice = await newUser();
  const a = await wechatRun({ user: alice });
  a.client.connect();
  await live(a);
  const refused = a.client.sendText(999999, "nobody here");
  await assert.rejects(refused, (err) => err.code === "not_found" && err.clientId === refused.clientId);
  assert.deepEqual(a.client.pendingSends(), []);
  const empty = a.client.send(999999, "txt", { text: "" });
  await assert.rejects(empty, (err) => err.code === "validation_error");
  a.client.destroy();
});

test("login with a WeChat code posts grant_type wechat; a refused login rejects with the contract's code", async () => {
  const wx = createWx();
  const sent = [];
  const request = wx.request;
  wx.request = (opts) => { sent.push(opts); return request(opts); };
  const client = new Client(wechatPlatform(wx), Object.assign({ baseUrl: await serverUrl() }, FAST));
  await assert.rejects(client.login({ code: "071abcWechatCode" }), (err) => err.status >= 400 && typeof err.code === "string");
  assert.deepEqual(sent[0].data, { grant_type: "wechat", code: "071abcWechatCode" });
  assert.match(sent[0].url, /\/api\/v1\/token$/);
  await assert.rejects(client.login({ username: "nobody-here", password: "wrong-password" }),
                       (err) => err.status === 401 && err.code === "invalid_credentials");
  client.destroy();
});

test("without socket headers the client gets a ticket (or, without the ticket route, uses access_token)", async () => {
  const alice = await newUser();
  const wx = createWx();
  const urls = [];
  const connect = wx.connectSocket;
  wx.connectSocket = (opts) => { urls.push(opts); return connect(opts); };
  const platform = Object.assign(wechatPlatform(wx), { socketHeaders: false });
  const client = new Client(platform, Object.assign({ baseUrl: await serverUrl() }, FAST));
  await client.login({ username: alice.username, password: alice.password });
  client.connect();
  await until(() => client.state === "live", "live without a header");
  assert.equal(urls.length, 1);
  assert.equal(urls[0].header.Authorization, undefined);
  assert.match(urls[0].url, /[?&](ticket|access_token)=/);
  client.destroy();
});

test("a revoked token ends the session: an error marked fatal, no reconnect", async () => {
  const alice = await newUser();
  const a = await wechatRun({ user: alice });
  a.client.connect();
  await live(a);
  await call("DELETE", "/token", { token: a.client.token });
  await until(() => a.seen.errors.some((e) => e.fatal && e.code === "unauthorized"), "the fatal error");
  assert.equal(a.client.state, "offline");
  assert.equal(a.wx.$openSockets(), 0);
  a.client.destroy();
});

test("a socket that goes silent is noticed by the heartbeat and replaced; what came meanwhile arrives", async () => {
  const [alice, bob] = [await newUser(), await newUser()];
  const group = await call("POST", `/users/${bob.id}/direct`, { token: alice.token, json: {} });
  const a = await wechatRun({ user: alice, options: { pingIntervalMs: 200, pingTimeoutMs: 400 } });
  a.client.connect();
  await live(a);
  a.wx.$stall(true);
  await until(() => a.seen.states.some(([s, reason]) => s === "offline" && reason === "heartbeat timeout"), "the timeout");
  await call("POST", `/groups/${group.id}/messages`, { token: bob.token, json: { client_id: "while-silent", type: "txt", body: { text: "在吗" } } });
  a.wx.$stall(false);
  await until(() => a.seen.messages.length === 1, "the message sent while the socket was silent");
  await live(a);
  assert.equal(a.seen.messages[0].body.text, "在吗");
  a.client.destroy();
});
