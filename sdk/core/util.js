"use strict";
// Small shared pieces: client ids, reconnect delays, message previews, query strings, deferred promises.

// A random id for a send (its idempotency key: every retry of that send uses the same one; ≤ 64 chars).
function newClientId() {
  const c = typeof crypto !== "undefined" ? crypto : null;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  let random = "";
  for (let i = 0; i < 4; i += 1) random += Math.floor(Math.random() * 0x100000000).toString(36);
  return `c${Date.now().toString(36)}${random}`;
}

// Exponential backoff with jitter: attempt 0 → 0.5–1 × base, doubling up to max (each delay random in [exp/2, exp]).
function backoffDelay(attempt, baseMs, maxMs) {
  const exp = Math.min(maxMs, baseMs * Math.pow(2, Math.min(attempt, 20)));
  return exp / 2 + Math.random() * (exp / 2);
}

const OFFER_STATUS = { pending: "待处理", accepted: "已接受", declined: "已拒绝", withdrawn: "已撤回" };

// One line of text for a message (conversation list previews), as the server writes them.
function preview(message) {
  const body = message.body || {};
  if (message.recalled) return "[消息已撤回]";
  switch (message.type) {
    case "txt": return body.text || "";
    case "system": return body.text || "";
    case "img": return "[图片]";
    case "audio": return "[语音]";
    case "video": return "[视频]";
    case "location": return `[位置] ${body.address || ""}`.trim();
    case "file": return `[文件] ${body.name || ""}`.trim();
    case "offer": return `[报价] ¥${((body.price_cents || 0) / 100).toFixed(2)} ${OFFER_STATUS[body.status] || ""}`.trim();
    case "custom": return `[${body.event || "custom"}]`;
    default: return `[${message.type}]`;
  }
}

function queryString(query) {
  const parts = [];
  for (const key of Object.keys(query || {})) {
    const value = query[key];
    if (value === undefined || value === null || value === "") continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

// {promise, resolve, reject}; the promise never counts as an unhandled rejection (nobody may be waiting on a
// send restored after a restart), while whoever awaits it still sees the rejection.
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

module.exports = { newClientId, backoffDelay, preview, queryString, deferred };
