// Users: search by username or nickname, filter by ban status; ban with a reason (and an optional end), unban.
import { clear, h } from "/web/dom.js";
import { ask, frame, pager, run, statusTag, table, when } from "/admin/ui.js";

const state = { q: "", status: "", page: 1 };

export async function render(root, { api }) {
  const search = h("input", { name: "q", type: "search", placeholder: "用户名或昵称 username or nickname", value: state.q });
  const status = h("select", { name: "status" },
    [["", "全部 all"], ["active", "正常 active"], ["banned", "已封禁 banned"]].map(([v, l]) => h("option", { value: v }, l)));
  status.value = state.status;
  const form = h("form", { class: "filters", onsubmit: (e) => {
    e.preventDefault();
    Object.assign(state, { q: search.value.trim(), status: status.value, page: 1 });
    load();
  } }, search, status, h("button", { type: "submit" }, "搜索 Search"));
  const body = frame(root, "用户 Users", form);

  async function ban(user) {
    const values = await ask(`封禁 Ban ${user.nickname} (@${user.username})`, [
      { name: "reason", label: "原因 reason", type: "textarea", required: true },
      { name: "until", label: "截止 until (空 = 永久 / empty = until lifted)", type: "datetime-local" },
    ], "封禁 Ban");
    if (!values) return;
    const payload = { reason: values.reason };
    if (values.until) payload.until = new Date(values.until).toISOString();
    if (await run(() => api.post(`/admin/users/${user.id}/ban`, payload), "已封禁 banned")) load();
  }

  async function unban(user) {
    if (await run(() => api.post(`/admin/users/${user.id}/unban`), "已解封 unbanned")) load();
  }

  async function load() {
    const result = await api.get("/admin/users", { q: state.q, status: state.status, page: state.page, page_size: 20 });
    clear(body).append(table([
      { title: "#", cell: (u) => String(u.id) },
      { title: "用户 user", cell: (u) => h("div", {}, h("div", {}, u.nickname), h("div", { class: "muted" }, `@${u.username}`)) },
      { title: "角色 role", cell: (u) => u.role },
      { title: "状态 status", cell: (u) => h("div", {}, statusTag(u.status),
        u.ban_reason ? h("div", { class: "muted" }, u.ban_reason) : null,
        u.banned_until ? h("div", { class: "muted" }, `至 until ${when(u.banned_until)}`) : null) },
      { title: "注册 joined", cell: (u) => when(u.created_at) },
      { title: "", cell: (u) => (u.status === "banned"
        ? h("button", { type: "button", dataset: { action: "unban" }, onclick: () => unban(u) }, "解封 Unban")
        : h("button", { type: "button", class: "danger", dataset: { action: "ban" }, disabled: u.role === "admin",
                        onclick: () => ban(u) }, "封禁 Ban")) },
    ], result.items, { rowData: (u) => ({ userId: u.id }) }), pager(result, (p) => { state.page = p; load(); }));
  }
  await load();
}
