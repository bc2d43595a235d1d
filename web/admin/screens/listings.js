// Listing review: the queue (pending_review, longest waiting first) and any listing by status or report;
// approve, reject with a reason, take down with a reason, restore.
import { clear, h, yuan } from "/web/dom.js";
import { ask, frame, pager, run, statusTag, table, userLabel, when } from "/admin/ui.js";

const STATUSES = ["pending_review", "active", "reserved", "removed", "rejected", "sold", "given", "withdrawn"];
const state = { status: "pending_review", reported: "", page: 1 };

export async function render(root, { api }) {
  const status = h("select", { name: "status", onchange: (e) => { state.status = e.target.value; state.page = 1; load(); } },
    h("option", { value: "" }, "全部 all"), STATUSES.map((s) => h("option", { value: s }, s)));
  const reported = h("select", { name: "reported",
                                 onchange: (e) => { state.reported = e.target.value; state.page = 1; load(); } },
    [["", "举报不限 any"], ["true", "被举报的 reported"], ["false", "未被举报 not reported"]]
      .map(([v, l]) => h("option", { value: v }, l)));
  status.value = state.status;
  reported.value = state.reported;
  const body = frame(root, "商品审核 Listings", status, reported);

  async function act(listing, verb, label) {
    let payload;
    if (verb === "reject" || verb === "takedown") {
      const values = await ask(`${label} #${listing.id} ${listing.title}`, [
        { name: "reason", label: "原因 (卖家可见) reason, shown to the seller", type: "textarea", required: true }], label);
      if (!values) return;
      payload = values;
    }
    if (await run(() => api.post(`/admin/listings/${listing.id}/${verb}`, payload), `${label} ✓`)) load();
  }

  function buttons(l) {
    const b = (verb, label, cls = "") => h("button", { type: "button", class: cls, dataset: { action: verb },
                                                       onclick: () => act(l, verb, label) }, label);
    return h("div", { class: "actions" },
      l.status === "pending_review" ? [b("approve", "通过 Approve", "primary"), b("reject", "驳回 Reject")] : null,
      l.status !== "removed" ? b("takedown", "下架 Take down", "danger") : b("restore", "恢复 Restore"));
  }

  async function load() {
    const result = await api.get("/admin/listings", { status: state.status, reported: state.reported,
                                                      page: state.page, page_size: 20 });
    clear(body).append(table([
      { title: "", cell: (l) => (l.images[0] ? h("img", { class: "thumb", src: l.images[0], alt: "" }) : "") },
      { title: "商品 listing", class: "clip", cell: (l) => h("div", {},
        h("div", {}, `#${l.id} ${l.title}`), h("div", { class: "muted" }, l.description.slice(0, 120))) },
      { title: "价格 price", cell: (l) => (l.kind === "donation" ? "赠送 free" : yuan(l.price_cents)) },
      { title: "卖家 seller", cell: (l) => userLabel(l.seller) },
      { title: "状态 status", cell: (l) => h("div", {}, statusTag(l.status),
        l.review_note ? h("div", { class: "muted" }, l.review_note) : null) },
      { title: "更新 updated", cell: (l) => when(l.updated_at) },
      { title: "", cell: buttons },
    ], result.items, { rowData: (l) => ({ listingId: l.id }) }), pager(result, (p) => { state.page = p; load(); }));
  }
  await load();
}
