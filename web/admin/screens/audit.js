// Audit log: every admin action and every admin read of a conversation, newest first; filters and paging.
import { clear, h } from "/web/dom.js";
import { frame, pager, table, userLabel, when } from "/admin/ui.js";

const state = { actor_id: "", action: "", target_type: "", page: 1 };

export async function render(root, { api }) {
  const input = (name, placeholder, type = "text") => h("input", { name, placeholder, type, value: state[name] });
  const actor = input("actor_id", "管理员 id actor id", "number");
  const action = input("action", "动作 action, e.g. user.ban");
  const targetType = input("target_type", "对象类型 target type");
  const form = h("form", { class: "filters", onsubmit: (e) => {
    e.preventDefault();
    Object.assign(state, { actor_id: actor.value, action: action.value.trim(), target_type: targetType.value.trim(),
                           page: 1 });
    load();
  } }, actor, action, targetType, h("button", { type: "submit" }, "筛选 Filter"));
  const body = frame(root, "审计日志 Audit log", form);

  async function load() {
    const result = await api.get("/admin/audit", { ...state, page_size: 20 });
    clear(body).append(table([
      { title: "时间 when", cell: (e) => when(e.created_at) },
      { title: "操作人 actor", cell: (e) => userLabel(e.actor) },
      { title: "动作 action", cell: (e) => h("code", {}, e.action) },
      { title: "对象 target", cell: (e) => `${e.target_type}${e.target_id ? ` #${e.target_id}` : ""}` },
      { title: "详情 details", cell: (e) => h("pre", { class: "details" }, Object.entries(e.details)
        .map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join("\n")) },
    ], result.items, { rowData: (e) => ({ action: e.action }) }), pager(result, (p) => { state.page = p; load(); }));
  }
  await load();
}
