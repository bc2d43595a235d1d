"use strict";
// The inbox a mini-program shows: the tab badge (`unread` events, muted chats left out), pin and mute, the
// peer's read marker ("已读") after a restart, and the WeChat helpers' requests.
const test = require("node:test");
const assert = require("node:assert/strict");
const { bindWechat, subscribeWithWechat } = require("../adapters/wechat.js");
const { Conversations } = require("../core/conversations.js");
const { wechatRun, live } = require("./support/clients.js");
const { call, newUser, until } = require("./support/server.js");

let sent = 0;
const say = (group, user, text) => call("POST", `/groups/${group.id}/messages`,
  { token: user.token, json: { client_id: `inbox-${process.pid}-${sent++}`, type: "txt", body: { text } } });

const ids = (client) => client.conversations().map((c) => c.group_id);

test("the badge follows messages, reads and mute; pinned chats head the list", async () => {
  const [alice, bob, carol] = [await newUser("阿丽"), await newUser("小波"), await newUser("卡罗")];
  const withAlice = await call("POST", `/users/${alice.id}/direct`, { token: bob.token, json: {} });
  const withCarol = await call("POST", `/users/${carol.id}/direct`, { token: bob.token, json: {} });
  const b = await wechatRun({ user: bob });
  const badges = [];
  b.client.on("unread", (total) => badges.push(total));
  b.client.connect();
  await live(b);
  await until(() => b.client.conversations().length === 2, "bob's list");
  assert.equal(b.client.unreadTotal(), 0);

  await say(withAlice, alice, "一");
  await say(withAlice, alice, "二");
  await say(withCarol, carol, "三");
  await until(() => b.client.unreadTotal() === 3, "the badge counts three");
  assert.equal(badges[badges.length - 1], 3);
  assert.deepEqual(ids(b.client), [withCarol.id, withAlice.id]);

  const flags = await b.client.mute(withAlice.id, true);
  assert.deepEqual(flags, { group_id: withAlice.id, muted: true, pinned: false });
  assert.equal(b.client.unreadTotal(), 1);  // the muted chat's two left the badge
  assert.equal(b.client.conversations().find((c) => c.group_id === withAlice.id).muted, true);
  await until(() => badges[badges.length - 1] === 1, "an unread event with the new total");

  await say(withAlice, alice, "四");  // muted: counted in its row, not in the badge
  await until(() => b.client.conversations().find((c) => c.group_id === withAlice.id).unread_count === 3, "row count");
  await b.client.loadConversations();
  assert.equal(b.client.unreadTotal(), 1);
  assert.deepEqual(ids(b.client), [withAlice.id, withCarol.id]);

  await b.client.pin(withCarol.id, true);
  assert.deepEqual(ids(b.client), [withCarol.id, withAlice.id]);
  await say(withAlice, alice, "五");  // newer, but not pinned: stays below
  await until(() => b.seen.messages.length === 5, "bob gets the fifth");
  await until(() => b.seen.conversations > 0 && ids(b.client)[0] === withCarol.id, "the pinned chat first");
  assert.deepEqual(ids(b.client), [withCarol.id, withAlice.id]);
  assert.equal(b.client.conversations()[0].pinned, true);

  await b.client.markRead(withCarol.id);
  assert.equal(b.client.unreadTotal(), 0);  // at once, before the server's event
  await until(async () => (await call("GET", "/conversations", { token: bob.token })).unread_total === 0, "server");
  await b.client.mute(withAlice.id, false);
  assert.equal(b.client.unreadTotal(), 4);
  await until(() => badges[badges.length - 1] === 4, "the unmuted chat counts again");
  await b.client.pin(withCarol.id, false);
  assert.deepEqual(ids(b.client), [withAlice.id, withCarol.id]);
  assert.deepEqual(b.seen.errors, []);
  b.client.destroy();
});

test("the peer's read marker arrives live and is back after a restart (已读)", async () => {
  const [alice, bob] = [await newUser(), await newUser()];
  const group = await call("POST", `/users/${bob.id}/direct`, { token: alice.token, json: {} });
  const storage = new Map();
  const a = await wechatRun({ user: alice, storage });
  a.client.connect();
  await live(a);
  const first = await a.client.sendText(group.id, "看得到吗");
  await a.client.sendText(group.id, "第二条");
  await until(() => a.client.conversations().some((c) => c.group_id === group.id), "alice's list");
  assert.equal(a.client.conversations()[0].peer_read_seq || 0, 0);

  await call("POST", `/groups/${group.id}/read`, { token: bob.token, json: { seq: first.seq } });
  await until(() => a.client.conversations()[0].peer_read_seq === first.seq, "bob read the first, live");
  assert.ok(a.seen.reads.some((r) => r.user_id === bob.id && r.seq === first.seq));
  a.client.destroy();

  await call("POST", `/groups/${group.id}/read`, { token: bob.token, json: { seq: first.seq + 1 } });
  const again = await wechatRun({ storage, login: false });  // the app restarted: the session from storage
  await again.client.loadConversations();
  assert.equal(again.client.conversations()[0].peer_read_seq, first.seq + 1);
  again.client.destroy();
});

test("bindWechat and recordSubscription post the contract's bodies; refusals carry the server's codes", async () => {
  const alice = await newUser();
  const a = await wechatRun({ user: alice });
  const requests = [];
  const request = a.wx.request;
  a.wx.request = (opts) => { requests.push(opts); return request(opts); };
  await assert.rejects(a.client.bindWechat("071bindCode"), (err) => err.status >= 400 && typeof err.code === "string");
  await assert.rejects(a.client.recordSubscription("no-such-template", true),
                       (err) => err.status >= 400 && typeof err.code === "string");
  assert.match(requests[0].url, /\/api\/v1\/me\/wechat$/);
  assert.equal(requests[0].method, "POST");
  assert.deepEqual(requests[0].data, { code: "071bindCode" });
  assert.match(requests[1].url, /\/api\/v1\/me\/subscriptions$/);
  assert.deepEqual(requests[1].data, { template_id: "no-such-template", accepted: true });
  await assert.rejects(a.client.mute(999999, true), (err) => err.status === 404 || err.status === 403);

  // The adapter's helpers: wx.login / wx.requestSubscribeMessage first, then the same requests.
  const asked = [];
  const wx = {
    login: ({ success }) => success({ code: "071fromWxLogin", errMsg: "login:ok" }),
    requestSubscribeMessage: (opts) => { asked.push(opts.tmplIds); opts.success({ errMsg: "requestSubscribeMessage:ok", [opts.tmplIds[0]]: "reject" }); },
  };
  await assert.rejects(bindWechat(a.client, { wx }), (err) => typeof err.code === "string");
  assert.deepEqual(requests[3].data, { code: "071fromWxLogin" });
  await assert.rejects(subscribeWithWechat(a.client, "tmpl-A", { wx }), (err) => typeof err.code === "string");
  assert.deepEqual(asked, [["tmpl-A"]]);
  assert.deepEqual(requests[4].data, { template_id: "tmpl-A", accepted: false });
  a.client.destroy();
});

test("a conversation page that left before a live message and its badge total does not undo them", () => {
  // The race a live server hits now and then: the page is read, then a message commits and its frames
  // (the message, then `unread` with the new total) arrive before the page's answer does.
  const list = new Conversations();
  const message = { id: 9, group_id: 3, seq: 1, type: "txt", body: { text: "在吗" }, sender: { id: 2 },
                    created_at: "2026-12-03T10:00:00+00:00" };
  const stale = [{ group_id: 3, kind: "direct", unread_count: 0, last_message: null, updated_at: "2026-12-03T09:00:00+00:00" }];
  list.replace(stale, [], { total: 0, version: 4 });
  assert.equal(list.setServerTotal(1, 5), true);  // the `unread` event, during the next page's flight
  list.replace(stale, [{ message, own: false }], { total: 0, version: 4 });
  assert.equal(list.get(3).unread_count, 1);
  assert.equal(list.unreadTotal(), 1);
});

test("a badge event sent before a page was read but arriving after it does not undo the page's total", () => {
  // The other order: a read's `unread` {0} is still on its way when an unmute commits and the list is read
  // again ({4}); the read's event arrives during or after that page's flight and is older than the page.
  const list = new Conversations();
  list.replace([], [], { total: 3, version: 7 });
  list.replace([], [], { total: 4, version: 9 });
  assert.equal(list.setServerTotal(0, 8), false);
  assert.equal(list.unreadTotal(), 4);
  assert.equal(list.setServerTotal(4, 9), false);  // the unmute's own event: nothing new
  assert.equal(list.setServerTotal(1, 10), true);
  assert.equal(list.unreadTotal(), 1);
  list.replace([], [], { total: 4, version: 9 });  // a page read before that
  assert.equal(list.unreadTotal(), 1);
});

test("a user group's rename, joins, leaves and removal reach the list and the badge", async () => {
  const [alice, bob, carol] = [await newUser("阿丽"), await newUser("小波"), await newUser("卡罗")];
  const group = await call("POST", "/groups", { token: alice.token, json: { name: "二手书", member_ids: [bob.id] } });
  const b = await wechatRun({ user: bob });
  b.client.connect();
  await live(b);
  const item = () => b.client.conversations().find((c) => c.group_id === group.id);
  await until(() => item() && item().member_count === 2, "bob's list holds the group");
  await say(group, alice, "有人要吗");
  await until(() => b.client.unreadTotal() === 2, "the creation notice and the message");

  await call("PATCH", `/groups/${group.id}`, { token: alice.token, json: { name: "二手书交换" } });
  await until(() => item().name === "二手书交换", "the new name");
  await call("POST", `/groups/${group.id}/members`, { token: alice.token, json: { user_ids: [carol.id] } });
  await until(() => item().member_count === 3, "carol counted");
  await call("POST", `/groups/${group.id}/leave`, { token: carol.token });
  await until(() => item().member_count === 2, "carol gone");
  assert.equal(b.client.unreadTotal(), 5);  // and the three notices

  await call("DELETE", `/groups/${group.id}/members/${bob.id}`, { token: alice.token });
  await until(() => !item(), "the group leaves bob's list");
  await until(() => b.client.unreadTotal() === 0, "and its unread his badge");
  assert.deepEqual(b.seen.errors, []);
  b.client.destroy();
});

test("logging out and in as another user on the same client starts the list, cache and badge afresh", async () => {
  const [alice, bob, carol] = [await newUser("阿丽"), await newUser("小波"), await newUser("卡罗")];
  const withBob = await call("POST", `/users/${bob.id}/direct`, { token: alice.token, json: {} });
  for (let i = 0; i < 6; i++) await say(withBob, bob, `第${i}条`);  // alice's badge version climbs to 6
  const a = await wechatRun({ user: alice });
  const badges = [];
  a.client.on("unread", (total) => badges.push(total));
  a.client.connect();
  await live(a);
  await until(() => a.client.unreadTotal() === 6 && a.client.conversations().length === 1, "alice's list");
  await a.client.history(withBob.id);
  assert.ok(a.client.cache.list(withBob.id).length > 0);

  await a.client.logout();
  await until(() => badges[badges.length - 1] === 0, "the badge cleared at logout");
  assert.deepEqual(a.client.conversations(), []);
  await a.client.login({ username: carol.username, password: carol.password });
  a.client.connect();
  await until(() => a.client.state === "live", "carol live");
  const withCarol = await call("POST", `/users/${carol.id}/direct`, { token: bob.token, json: {} });
  await say(withCarol, bob, "卡罗你好");  // carol's badge: version 1, below alice's 6
  await until(() => a.client.unreadTotal() === 1, "carol's own badge");
  await until(() => a.client.conversations().length === 1 && a.client.conversations()[0].group_id === withCarol.id,
              "only carol's chat");
  assert.equal(a.client.cache.list(withBob.id).length, 0);  // alice's messages are not carol's
  assert.deepEqual(a.seen.errors, []);
  a.client.destroy();
});

test("a conversation page that comes back after the user changed is not shown to the next user", async () => {
  const { client } = await wechatRun({ login: false });
  client.useToken("token-of-a", { id: 1001, nickname: "甲" });
  let answer;
  client.rest.conversations = () => new Promise((resolve) => { answer = resolve; });
  const loading = client.loadConversations();
  client.useToken("token-of-b", { id: 1002, nickname: "乙" });  // another user on the same client
  answer({ items: [{ group_id: 7, kind: "direct", unread_count: 3, updated_at: "2026-12-06T10:00:00+00:00" }],
           next_cursor: null, unread_total: 3, unread_version: 9 });
  await loading;
  assert.deepEqual(client.conversations(), []);
  assert.equal(client.unreadTotal(), 0);
  client.destroy();
});

test("a chat deleted from the list leaves it and the badge, and comes back with its next message", async () => {
  const [alice, bob] = [await newUser("阿丽"), await newUser("小波")];
  const chat = await call("POST", `/users/${bob.id}/direct`, { token: alice.token, json: {} });
  const b = await wechatRun({ user: bob });
  b.client.connect();
  await live(b);
  await say(chat, alice, "在吗");
  await say(chat, alice, "还在卖吗");
  await until(() => b.client.unreadTotal() === 2 && b.client.conversations().length === 1, "two unread");

  await b.client.hideConversation(chat.id);
  assert.deepEqual(b.client.conversations(), []);
  assert.equal(b.client.unreadTotal(), 0);
  const server = await call("GET", "/conversations", { token: bob.token });
  assert.deepEqual([server.items.length, server.unread_total], [0, 0]);

  await say(chat, alice, "人呢");
  await until(() => b.client.conversations().length === 1, "back with the new message");
  assert.equal(b.client.conversations()[0].unread_count, 1);  // only what came after
  await until(() => b.client.unreadTotal() === 1, "the badge counts it");
  const history = await call("GET", `/groups/${chat.id}/messages`, { token: bob.token });
  assert.equal(history.items.length, 3);  // the history stays
  assert.deepEqual(b.seen.errors, []);
  b.client.destroy();
});
