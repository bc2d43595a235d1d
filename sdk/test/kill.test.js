"use strict";
// The app killed with 5 sends unacked in the outbox, restarted: each stored exactly once, each promise of the
// new run resolved.
const test = require("node:test");
const assert = require("node:assert/strict");
const { wechatRun, live, texts } = require("./support/clients.js");
const { allMessages, call, newUser, until } = require("./support/server.js");

test("killed with 5 sends on the wire and unacked, restarted: each stored exactly once, each new promise resolved", async () => {
  const [buyer, seller] = [await newUser("买家"), await newUser("卖家")];
  const group = await call("POST", `/users/${seller.id}/direct`, { token: buyer.token, json: {} });
  const storage = new Map();  // what the phone keeps between the two runs
  const first = await wechatRun({ user: buyer, storage });
  first.client.connect();
  await live(first);
  await first.client.sendText(group.id, "开始");

  // Five sends written to the live socket, and the process stops in the same instant: no ack is handled.
  const all = ["一号", "二号", "三号", "四号", "五号"];
  all.forEach((t) => first.client.sendText(group.id, t));
  first.wx.$freeze();
  const killedIds = first.client.pendingSends().map((f) => f.client_id);
  assert.deepEqual(storage.get(`paipai.${buyer.id}.outbox`).map((f) => f.body.text), all);
  // The frames had left: the server stores them (their acks are never heard).
  await until(async () => (await allMessages(group.id, seller.token)).length === 6, "the server stores the five");
  first.wx.$kill();
  first.client.destroy();

  // The restart: a new wx and client on the same storage; the session and the outbox come back from it.
  const second = await wechatRun({ storage, login: false });
  assert.equal(second.client.userId, buyer.id);
  const restored = second.client.pendingSends();
  const restoredTexts = restored.map((f) => f.body.text);
  assert.deepEqual(restoredTexts, all);
  assert.deepEqual(restored.map((f) => f.client_id), killedIds);
  second.client.connect();
  const resolved = await Promise.all(restored.map((f) => f.promise));
  assert.deepEqual(texts(resolved), restoredTexts);
  assert.deepEqual(resolved.map((m) => m.client_id), restored.map((f) => f.client_id));
  assert.deepEqual(second.client.pendingSends(), []);
  assert.equal(storage.get(`paipai.${buyer.id}.outbox`), undefined);

  const history = await allMessages(group.id, seller.token);
  assert.deepEqual(texts(history), ["开始", ...all]);  // each exactly once, in the order sent
  assert.deepEqual(history.map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
  await until(() => second.client.state === "live", "live");
  assert.deepEqual(second.seen.errors, []);
  second.client.destroy();
});

test("a restart with the whole outbox unsent: all five stored once and resolved", async () => {
  const [buyer, seller] = [await newUser(), await newUser()];
  const group = await call("POST", `/users/${seller.id}/direct`, { token: buyer.token, json: {} });
  const storage = new Map();
  const first = await wechatRun({ user: buyer, storage });
  first.wx.$network(false);  // never connected: every send stays in the outbox
  const five = ["一", "二", "三", "四", "五"];
  five.forEach((t) => first.client.sendText(group.id, t));
  first.wx.$kill();
  first.client.destroy();

  const second = await wechatRun({ storage, login: false });
  const restored = second.client.pendingSends();
  assert.deepEqual(restored.map((f) => f.body.text), five);
  second.client.connect();
  const resolved = await Promise.all(restored.map((f) => f.promise));
  assert.deepEqual(resolved.map((m) => m.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual(texts(await allMessages(group.id, buyer.token)), five);
  second.client.destroy();
});
