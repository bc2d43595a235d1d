// Reports queue: open reports oldest first; resolve with dismiss, takedown (listings) or ban, and a note.
import { clear, h } from "/web/dom.js";
import { ask, frame, pager, run, statusTag, table, userLabel, when } from "/admin/ui.js";

const state = { status: "open", target_type: "", page: 1 };
const RESOLUTIONS = [["dismiss", "驳回 dismiss"], ["takedown", "下架 takedown (listing)"], ["ban", "封禁 ban"]];

export async function render(root, { api }) {
  const status = h("select", { name: "status", onchange: (e) => { state.status = e.target.value; state.page = 1; load(); } },
    [["open", "待处理 open"], ["resolved", "已处理 resolved"], ["", "全部 all"]].map(([v, l]) => h("option", { value: v }, l)));
  const type = h("select", { name: "target_type",
                             onchange: (e) => { state.target_type = e.target.value; state.page = 1; load(); } },
    [["", "全部对象 any target"], ["user", "用户 user"], ["listing", "商品 listing"], ["message", "消息 message"]]
      .map(([v, l]) => h("option", { value: v }, l)));
  status.value = state.status;
  type.value = state.target_type;
  const body = frame(root, "举报队列 Reports", status, type);

  async function resolve(report) {
    const values = await ask(`处理举报 #${report.id} Resolve`, [
      { name: "action", label: "处理方式 action", type: "select",
        options: RESOLUTIONS.filter(([a]) => a !== "takedown" || report.target_type === "listing") },
      { name: "note", label: "备注 note", type: "textarea" },
    ], "处理 Resolve");
    if (values && await run(() => api.post(`/admin/reports/${report.id}/resolve`, values), "已处理 resolved")) load();
  }

  async function load() {
    const result = await api.get("/admin/reports", { status: state.status, target_type: state.target_type,
                                                     page: state.page, page_size: 20 });
    clear(body).append(table([
      { title: "#", cell: (r) => String(r.id) },
      { title: "时间 when", cell: (r) => when(r.created_at) },
      { title: "举报人 reporter", cell: (r) => userLabel(r.reporter) },
      { title: "对象 target", class: "clip", cell: (r) => h("div", {},
        h("div", {}, `${r.target_type} #${r.target_id}`, r.target_owner_id ? ` · 用户 #${r.target_owner_id}` : ""),
        h("div", { class: "muted" }, r.target_summary),
        r.target_context && r.target_context.group_id
          ? h("a", { href: `#groups/${r.target_context.group_id}` }, `查看会话 open chat #${r.target_context.group_id}`)
          : null) },
      { title: "原因 reason", class: "clip", cell: (r) => r.reason },
      { title: "状态 status", cell: (r) => h("div", {}, statusTag(r.status),
        r.resolution ? h("div", { class: "muted" }, `${r.resolution}${r.resolution_note ? `: ${r.resolution_note}` : ""}`) : null) },
      { title: "", cell: (r) => r.status === "open"
        ? h("button", { type: "button", class: "primary", onclick: () => resolve(r) }, "处理 Resolve") : "" },
    ], result.items, { rowData: (r) => ({ reportId: r.id }) }), pager(result, (p) => { state.page = p; load(); }));
  }
  await load();
}
