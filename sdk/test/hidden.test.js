"use strict";
// The app hidden mid-conversation while the peer sends 50 messages, then shown: all 50 once, in order, and the
// unread count right.
const test = require("node:test");
const assert = require("node:assert/strict");
const { wechatRun, live, texts } = require("./support/clients.js");
const { call, newUser, until } = require("./support/server.js");

test("hidden while the peer sends 50, shown: all 50 once, in order, unread right", async () => {
  const [buyer, seller] = [await newUser("买家"), await newUser("卖家")];
  const group = await call("POST", `/users/${seller.id}/direct`, { token: buyer.token, json: {} });
  const app = await wechatRun({ user: buyer });
  const peer = await wechatRun({ user: seller });
  app.client.connect();
  peer.client.connect();
  await live(app);
  await live(peer);

  // Mid-conversation: one each way, the buyer reads, then leaves the chat screen for the list.
  await app.client.sendText(group.id, "还在吗?");
  await peer.client.sendText(group.id, "在的");
  await until(() => app.seen.messages.length === 2, "the answer");
  await app.client.markRead(group.id);
  await until(() => app.client.conversations().length === 1 && app.client.conversations()[0].unread_count === 0, "read");

  app.wx.$hide();
  await until(() => app.client.state === "offline" && app.wx.$openSockets() === 0, "closed after the grace");
  assert.deepEqual(app.seen.states[app.seen.states.length - 1], ["offline", "hidden"]);

  const sent = [];
  for (let i = 1; i <= 50; i += 1) sent.push(`第${i}条`);
  const stored = await Promise.all(sent.map((text) => peer.client.sendText(group.id, text)));
  assert.deepEqual(stored.map((m) => m.seq), sent.map((_t, i) => i + 3));
  assert.equal(app.seen.messages.length, 2, "nothing reaches a hidden app");

  const cursor = app.client.cursor;
  const connects = app.wx.$connects.length;
  app.wx.$show();
  await until(() => app.seen.messages.length === 52, "the 50 after showing");
  // One new socket, resuming from the stored cursor on connect, with the token in the header (not the URL).
  assert.equal(app.wx.$connects.length, connects + 1);
  const resumed = app.wx.$connects[connects];
  assert.equal(new URL(resumed.url).searchParams.get("cursor"), cursor);
  assert.equal(new URL(resumed.url).searchParams.get("access_token"), null);
  assert.equal(resumed.header.Authorization, `Bearer ${app.client.token}`);
  await live(app);
  const missed = app.seen.messages.slice(2);
  assert.deepEqual(texts(missed), sent);
  assert.deepEqual(missed.map((m) => m.seq), sent.map((_t, i) => i + 3));
  assert.ok(missed.every((m) => !m.own));
  const conversation = () => app.client.conversations().find((c) => c.group_id === group.id);
  await until(() => conversation() && conversation().unread_count === 50, "50 unread");
  assert.equal(conversation().last_message.preview, "第50条");
  const server = await call("GET", "/conversations", { token: buyer.token });
  assert.equal(server.items[0].unread_count, 50);
  assert.deepEqual(texts(app.client.messages(group.id)).slice(2), sent);

  // A second hide/show with nothing new delivers nothing again.
  app.wx.$hide();
  await until(() => app.client.state === "offline", "hidden again");
  app.wx.$show();
  await live(app);
  await call("POST", `/groups/${group.id}/messages`, { token: seller.token, json: { client_id: "after-1", type: "txt", body: { text: "最后一条" } } });
  await until(() => app.seen.messages.length === 53, "a live one after the second show");
  assert.equal(app.seen.messages[52].body.text, "最后一条");
  assert.equal(new Set(app.seen.messages.map((m) => m.id)).size, 53);
  assert.deepEqual(app.seen.errors, []);
  app.client.destroy();
  peer.client.destroy();
});
