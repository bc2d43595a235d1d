"use strict";
// An edit made while a device was offline reaches it once after the reconnect (its cursor moves past it),
// and reactions come as events that update the cached message.
const test = require("node:test");
const assert = require("node:assert/strict");
const { wechatRun, live } = require("./support/clients.js");
const { call, newUser, until } = require("./support/server.js");

test("an edit made while offline arrives once after the reconnect; reactions update the cache", async () => {
  const [alice, bob] = [await newUser("阿丽"), await newUser("小波")];
  const group = await call("POST", `/users/${bob.id}/direct`, { token: alice.token, json: {} });
  const a = await wechatRun({ user: alice });
  const b = await wechatRun({ user: bob });
  const edits = [];
  const reactions = [];
  b.client.on("edit", (m) => edits.push(m));
  b.client.on("reaction", (d) => reactions.push(d));
  a.client.connect();
  b.client.connect();
  await live(a);
  await live(b);

  const sent = await a.client.sendText(group.id, "周六见");
  await until(() => b.seen.messages.length === 1, "bob gets it");
  const before = b.client.cursor;

  b.wx.$network(false);
  const edited = await a.client.editMessage(group.id, sent.id, "周日见");
  assert.equal(edited.revision, 1);
  assert.equal(a.client.messages(group.id)[0].body.text, "周日见");
  b.wx.$network(true);
  await until(() => edits.length === 1, "bob hears the edit after the reconnect");
  await live(b);
  assert.equal(edits[0].id, sent.id);
  assert.equal(b.client.messages(group.id)[0].body.text, "周日见");
  assert.equal(b.client.messages(group.id)[0].revision, 1);
  assert.notEqual(b.client.cursor, before);  // moved past the edit: a later resume does not replay it

  const state = await a.client.react(group.id, sent.id, "👍");
  assert.deepEqual(state.reactions, [{ emoji: "👍", count: 1, me: true }]);
  await until(() => reactions.length === 1, "bob hears the reaction");
  assert.deepEqual(reactions[0].change, { user_id: alice.id, emoji: "👍", action: "add" });
  assert.deepEqual(b.client.messages(group.id)[0].reactions, [{ emoji: "👍", count: 1, me: false }]);

  // Another reconnect: nothing is replayed twice.
  b.wx.$network(false);
  b.wx.$network(true);
  await until(() => b.client.state === "live", "live again");
  await a.client.sendText(group.id, "好的");
  await until(() => b.seen.messages.length === 2, "bob gets the next message");
  assert.equal(edits.length, 1);
  assert.equal(reactions.length, 1);
  assert.deepEqual(b.seen.errors, []);
  a.client.destroy();
  b.client.destroy();
});
