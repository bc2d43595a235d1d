"use strict";
// The old IM SDK's handler names: an app.js written for conn.listen({...}) gets each message type under them.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const { wechatRun, live } = require("./support/clients.js");
const { call, newUser, tempDir, until } = require("./support/server.js");

// A real 8×8 PNG (the upload sniffs content, not names).
function png() {
  const crcTable = Array.from({ length: 256 }, (_x, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(8, 0);
  header.writeUInt32BE(8, 4);
  header[8] = 8;
  header[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(24, 0x80)]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header),
                        chunk("IDAT", zlib.deflateSync(Buffer.concat(Array(8).fill(row)))), chunk("IEND", Buffer.alloc(0))]);
}

// A second of silence as 8 kHz 8-bit WAV, and the start of an MP4 (ftyp, free): each sniffed as its kind.
function wav() {
  const n = 800;
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + n, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write("data", 36);
  header.writeUInt32LE(n, 40);
  return Buffer.concat([header, Buffer.alloc(n, 0x80)]);
}

function mp4() {
  const brands = Buffer.from("isom\0\0\x02\0isomiso2mp41", "latin1");
  const ftyp = Buffer.alloc(8);
  ftyp.writeUInt32BE(8 + brands.length, 0);
  ftyp.write("ftyp", 4);
  const free = Buffer.alloc(16);
  free.writeUInt32BE(16, 0);
  free.write("free", 4);
  return Buffer.concat([ftyp, brands, free]);
}

test("listen() hands each message type, recalls, presence and the connection to the old handler names", async () => {
  const [me, peer] = [await newUser("我"), await newUser("对方")];
  const group = await call("POST", `/users/${peer.id}/direct`, { token: me.token, json: {} });
  const app = await wechatRun({ user: me });
  const got = [];
  const record = (name) => (message) => got.push([name, message]);
  const names = ["onOpened", "onClosed", "onError", "onPresence", "onRecallMessage", "onTextMessage", "onPictureMessage",
                 "onAudioMessage", "onVideoMessage", "onLocationMessage", "onFileMessage", "onCustomMessage"];
  const handlers = {};
  for (const name of names) handlers[name] = record(name);
  const stop = app.client.listen(handlers);
  app.client.connect();
  await live(app);
  assert.deepEqual(got.map(([name]) => name), ["onOpened"]);

  const other = await wechatRun({ user: peer });
  other.client.connect();
  await live(other);
  await until(() => got.some(([name, m]) => name === "onPresence" && m.type === "online"), "the peer's presence");

  // The peer sends one of each type; the picture goes up with wx.uploadFile first.
  const dir = tempDir();
  const files = { photo: path.join(dir, "photo.png"), voice: path.join(dir, "voice.wav"), clip: path.join(dir, "clip.mp4") };
  fs.writeFileSync(files.photo, png());
  fs.writeFileSync(files.voice, wav());
  fs.writeFileSync(files.clip, mp4());
  const picture = await other.client.sendImage(group.id, files.photo, { width: 8, height: 8 });
  const url = picture.body.url;
  await other.client.sendText(group.id, "你好");
  const voice = await other.client.sendAudio(group.id, files.voice, 1000);
  await other.client.sendVideo(group.id, files.clip, 5000, { thumbUrl: url });
  await other.client.sendLocation(group.id, { lat: 31.23, lng: 121.47, address: "上海市徐汇区" });
  await other.client.send(group.id, "file", { url: voice.body.url, name: "录音.wav", size: 844 });
  await other.client.sendCustom(group.id, "listing_card", { listing_id: 7 });
  const text = await other.client.sendText(group.id, "发错了");
  await other.client.recall(group.id, text.id);
  await until(() => got.some(([name]) => name === "onRecallMessage"), "the recall");

  const messages = got.filter(([name]) => name.endsWith("Message") && name !== "onRecallMessage");
  assert.deepEqual(messages.map(([name]) => name), ["onPictureMessage", "onTextMessage", "onAudioMessage",
    "onVideoMessage", "onLocationMessage", "onFileMessage", "onCustomMessage", "onTextMessage"]);
  const byName = Object.fromEntries(messages.map(([name, m]) => [name, m]));
  assert.equal(byName.onPictureMessage.url, url);
  assert.equal(byName.onPictureMessage.from, String(peer.id));
  assert.equal(byName.onPictureMessage.to, String(group.id));
  assert.equal(messages[1][1].data, "你好");
  assert.equal(byName.onAudioMessage.body.duration_ms, 1000);
  assert.equal(byName.onAudioMessage.url, voice.body.url);
  assert.equal(byName.onVideoMessage.body.thumb_url, url);
  assert.equal(byName.onLocationMessage.body.address, "上海市徐汇区");
  assert.equal(byName.onFileMessage.body.name, "录音.wav");
  assert.deepEqual(byName.onCustomMessage.customExts, { event: "listing_card", data: { listing_id: 7 } });
  const recall = got.find(([name]) => name === "onRecallMessage")[1];
  assert.equal(recall.id, String(text.id));
  assert.equal(recall.message.recalled, true);

  other.client.destroy();
  await until(() => got.some(([name, m]) => name === "onPresence" && m.type === "offline"), "the peer went offline");
  app.wx.$network(false);
  await until(() => got.some(([name]) => name === "onClosed"), "onClosed");
  app.wx.$network(true);
  await until(() => got.filter(([name]) => name === "onOpened").length === 2, "onOpened again");
  assert.deepEqual(got.filter(([name]) => name === "onError"), []);

  stop();
  const before = got.length;
  await call("POST", `/groups/${group.id}/messages`, { token: peer.token, json: { client_id: "after-stop", type: "txt", body: { text: "x" } } });
  await until(() => app.seen.messages.length === 9, "the client still gets it");
  assert.equal(got.length, before, "nothing after unsubscribing");
  app.client.destroy();
});
