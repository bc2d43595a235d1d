// Widgets of the admin console: tables, a pager, a form dialog, and running an action with feedback.
import { $, clear, h, toast } from "/web/dom.js";

export const PAGE_SIZE = 20;

// "2026-11-28 16:20" in local time.
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function statusTag(status) {
  return h("span", { class: `tag status-${status}` }, status);
}

export function userLabel(user) {
  return user ? `${user.nickname} (#${user.id})` : "—";
}

// columns: [{title, cell: row → Node|string}]; rowData: row → dataset for the <tr>.
export function table(columns, rows, { empty = "没有记录 (nothing here)", rowData = () => ({}) } = {}) {
  const body = rows.length
    ? rows.map((row) => h("tr", { dataset: rowData(row) }, columns.map((c) => h("td", { class: c.class }, c.cell(row)))))
    : [h("tr", { class: "empty-row" }, h("td", { colspan: columns.length }, empty))];
  return h("table", {}, h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c.title)))), h("tbody", {}, body));
}

// A page list's pager: {page, page_size, total} → "‹ page 2 / 5 ›".
export function pager(result, goTo) {
  const pages = Math.max(1, Math.ceil(result.total / result.page_size));
  return h("div", { class: "pager" },
    h("button", { type: "button", disabled: result.page <= 1, onclick: () => goTo(result.page - 1) }, "‹ 上一页"),
    h("span", { class: "muted" }, `第 ${result.page} / ${pages} 页 · 共 ${result.total} 条`),
    h("button", { type: "button", disabled: result.page >= pages, onclick: () => goTo(result.page + 1) }, "下一页 ›"));
}

// Run an admin action: a toast with what happened, or with the error's message; true on success.
export async function run(action, done) {
  try {
    await action();
    if (done) toast(done);
    return true;
  } catch (err) {
    toast(`${err.message}${err.code ? ` (${err.code})` : ""}`, "error");
    return false;
  }
}

// A modal form. fields: [{name, label, type?: "text"|"textarea"|"select"|"datetime-local"|"number",
// required?, options?: [[value, label]], value?}] → the values, or null when cancelled.
export function ask(title, fields, submitText = "确定 OK") {
  const dialog = $("#dialog");
  const inputs = fields.map((f) => {
    let input;
    if (f.type === "textarea") input = h("textarea", { name: f.name, rows: 3, required: f.required });
    else if (f.type === "select") {
      input = h("select", { name: f.name }, f.options.map(([value, label]) => h("option", { value }, label)));
    } else input = h("input", { name: f.name, type: f.type || "text", required: f.required });
    if (f.value !== undefined) input.value = f.value;
    return h("label", {}, f.label, input);
  });
  const form = h("form", { method: "dialog" },
    h("h3", {}, title), inputs,
    h("div", { class: "buttons" },
      h("button", { type: "button", value: "cancel", onclick: () => dialog.close("cancel") }, "取消 Cancel"),
      h("button", { type: "submit", class: "primary", value: "ok" }, submitText)));
  clear(dialog).append(form);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "ok") return resolve(null);
      resolve(Object.fromEntries(new FormData(form).entries()));
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

// A screen's frame: a title, an optional filter bar, and the body the screen fills in.
export function frame(root, title, ...filters) {
  const body = h("div", { class: "body" });
  clear(root).append(h("h2", {}, title), filters.length ? h("div", { class: "filters" }, filters) : "", body);
  return body;
}
