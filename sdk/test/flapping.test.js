"use strict";
// The network flapping every 200 ms during 20 s of two-way traffic: nothing lost, duplicated or reordered.
const test = require("node:test");
const assert = require("node:assert/strict");
const { wechatRun, live, texts } = require("./support/clients.js");
const { allMessages, call, newUser, sleep, until } = require("./support/server.js");

const FLAP_MS = 200;
const RUN_MS = Number(process.env.PAIPAI_FLAP_SECONDS || 20) * 1000;
const SEND_EVERY_MS = 60;

// Every message a client was handed for one group: each seq once, in seq order, no gap.
function assertInOrderOnce(messages, total, who) {
  const seqs = messages.map((m) => m.seq);
  assert.equal(new Set(seqs).size, seqs.length, `${who}: a duplicate`);
  assert.deepEqual(seqs, Array.from({ length: total }, (_x, i) => i + 1), `${who}: lost or reordered`);
}

test("network flapping every 200 ms for 20 s of two-way traffic: nothing lost, duplicated or reordered",
     { timeout: RUN_MS + 300000 }, async () => {
  const [buyer, seller] = [await newUser("买家"), await newUser("卖家")];
  const group = await call("POST", `/users/${seller.id}/direct`, { token: buyer.token, json: {} });
  const a = await wechatRun({ user: buyer });
  const b = await wechatRun({ user: seller });
  a.client.connect();
  b.client.connect();
  await live(a);
  await live(b);

  const promises = { a: [], b: [] };
  const sent = { a: [], b: [] };
  let up = true;
  let flaps = 0;
  const end = Date.now() + RUN_MS;
  let n = 0;
  while (Date.now() < end) {
    n += 1;
    // Both phones lose the network every other 200 ms, out of step with each other.
    if (n % Math.round(FLAP_MS / SEND_EVERY_MS) === 0) {
      up = !up;
      flaps += 1;
      a.wx.$network(up);
      setTimeout(() => b.wx.$network(up), FLAP_MS / 2);
    }
    const [from, run] = n % 2 ? ["a", a] : ["b", b];
    const text = `${from}-${n}`;
    sent[from].push(text);
    promises[from].push(run.client.sendText(group.id, text));
    await sleep(SEND_EVERY_MS);
  }
  await sleep(FLAP_MS);
  a.wx.$network(true);
  b.wx.$network(true);

  // Every send settles (stored, or refused: a refusal fails the test below), however long the catch-up takes.
  let settled = 0;
  const all = promises.a.concat(promises.b);
  all.forEach((p) => p.then(() => { settled += 1; }, () => { settled += 1; }));
  const where = () => `${settled}/${all.length} settled; buyer ${a.client.state} (${a.client.pendingSends().length} ` +
    `pending), seller ${b.client.state} (${b.client.pendingSends().length} pending)`;
  await until(() => settled === all.length, () => where(), 120000);
  const stored = { a: await Promise.all(promises.a), b: await Promise.all(promises.b) };
  assert.deepEqual(texts(stored.a), sent.a);
  assert.deepEqual(texts(stored.b), sent.b);
  const history = await allMessages(group.id, buyer.token);
  const total = sent.a.length + sent.b.length;
  assert.equal(history.length, total, "each send stored exactly once");
  assert.deepEqual(texts(history.filter((m) => m.sender.id === buyer.id)), sent.a, "the buyer's in the order sent");
  assert.deepEqual(texts(history.filter((m) => m.sender.id === seller.id)), sent.b, "the seller's in the order sent");

  await until(() => a.seen.messages.length >= total && b.seen.messages.length >= total,
              () => `both caught up: ${a.seen.messages.length}, ${b.seen.messages.length} of ${total}`, 60000);
  assertInOrderOnce(a.seen.messages, total, "buyer");
  assertInOrderOnce(b.seen.messages, total, "seller");
  assert.deepEqual(a.seen.messages.map((m) => m.id), history.map((m) => m.id));
  assert.deepEqual(b.seen.messages.map((m) => m.id), history.map((m) => m.id));
  const reconnects = a.seen.states.filter(([s]) => s === "live").length;
  assert.ok(flaps > 20 && reconnects > 5, `${flaps} flaps, ${reconnects} reconnects`);
  assert.deepEqual(a.seen.errors.concat(b.seen.errors), []);
  console.log(`flapping: ${flaps} flaps, ${total} messages, buyer live ${reconnects} times`);
  a.client.destroy();
  b.client.destroy();
});
