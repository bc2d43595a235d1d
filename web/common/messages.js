// How a chat message looks, shared by /chat and the admin console's conversation view.
import { h, shortTime } from "/web/dom.js";

// One line of text for a message (list previews, toasts, the body of types without a picture): the SDK's,
// so the pages and every client word a message alike.
const { preview } = await globalThis.paipaiSdk.load("core/util.js");
export const messageSummary = preview;

function bodyNode(message) {
  if (message.type === "img" && !message.recalled && message.body && message.body.url) {
    return h("img", { class: "photo", src: message.body.url, alt: "图片", loading: "lazy",
                      width: message.body.width, height: message.body.height });
  }
  return messageSummary(message);
}

// <li class="msg"> for a stored message (dataset: group, seq) or a pending send (dataset: clientId).
export function messageNode(message, { own = false, pending = false } = {}) {
  const system = message.type === "system" || !message.sender;
  const classes = ["msg", system ? "system" : "", own ? "own" : "", pending ? "pending" : ""];
  const who = system ? "系统 system" : (message.sender.nickname || `#${message.sender.id}`);
  const meta = pending ? who : `${who} · ${shortTime(message.created_at)} · #${message.seq}`;
  const dataset = { type: message.type };
  if (message.seq) dataset.seq = message.seq;
  if (message.client_id) dataset.clientId = message.client_id;
  return h("li", { class: classes.filter(Boolean).join(" "), dataset },
    h("div", { class: "bubble" }, bodyNode(message)),
    h("div", { class: "meta" }, meta));
}

// Keeps the <li> of one conversation in seq order, each seq once; pending sends stay at the end.
export class MessageList {
  constructor(listEl, { isOwn = () => false } = {}) {
    this.el = listEl;
    this.isOwn = isOwn;
    this.bySeq = new Map();
    this.pending = new Map();  // client_id → <li>
  }

  get firstSeq() {
    return this.bySeq.size ? Math.min(...this.bySeq.keys()) : null;
  }

  get lastSeq() {
    return this.bySeq.size ? Math.max(...this.bySeq.keys()) : 0;
  }

  // Put a stored message in its place; false when that seq is shown already.
  add(message) {
    if (this.bySeq.has(message.seq)) return false;
    const pendingNode = message.client_id && this.pending.get(message.client_id);
    if (pendingNode) {
      pendingNode.remove();
      this.pending.delete(message.client_id);
    }
    const node = messageNode(message, { own: this.isOwn(message) });
    const before = [...this.bySeq.entries()].filter(([seq]) => seq > message.seq).sort((a, b) => a[0] - b[0]);
    if (before.length) this.el.insertBefore(node, before[0][1]);
    else if (this.pending.size) this.el.insertBefore(node, this.pending.values().next().value);
    else this.el.append(node);
    this.bySeq.set(message.seq, node);
    return true;
  }

  addPending(frame, sender) {
    if (this.pending.has(frame.client_id)) return;
    const node = messageNode({ ...frame, sender, seq: null }, { own: true, pending: true });
    this.pending.set(frame.client_id, node);
    this.el.append(node);
  }

  failPending(clientId) {
    const node = this.pending.get(clientId);
    if (node) node.classList.replace("pending", "failed");
    this.pending.delete(clientId);
  }

  replace(message) {
    const node = this.bySeq.get(message.seq);
    if (!node) return;
    const fresh = messageNode(message, { own: this.isOwn(message) });
    node.replaceWith(fresh);
    this.bySeq.set(message.seq, fresh);
  }
}
