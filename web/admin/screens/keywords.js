// Keyword rules: the whole set edited as a table and saved at once (PUT replaces it atomically).
import { clear, h } from "/web/dom.js";
import { frame, run, when } from "/admin/ui.js";

const KINDS = [["word", "词 word"], ["regex", "正则 regex"]];
const ACTIONS = [["block", "拦截 block"], ["mask", "打码 mask"], ["review", "审核 review (listings)"]];
const TARGETS = [["listing,message", "商品+消息 both"], ["listing", "商品 listing"], ["message", "消息 message"]];

function select(name, options, value) {
  const el = h("select", { name }, options.map(([v, l]) => h("option", { value: v }, l)));
  el.value = value;
  return el;
}

export async function render(root, { api }) {
  const rows = h("tbody");
  const info = h("span", { class: "muted" });
  const body = frame(root, "关键词规则 Keyword rules");

  function addRow(rule = { pattern: "", kind: "word", action: "block", applies_to: ["listing", "message"] }) {
    const tr = h("tr", { class: "rule" },
      h("td", {}, h("input", { name: "pattern", value: rule.pattern, maxlength: 200, placeholder: "例如 微信 / \\d{11}" })),
      h("td", {}, select("kind", KINDS, rule.kind)),
      h("td", {}, select("action", ACTIONS, rule.action)),
      h("td", {}, select("applies_to", TARGETS, [...(rule.applies_to || ["listing", "message"])].sort().join(","))),
      h("td", {}, h("button", { type: "button", class: "danger", onclick: () => tr.remove() }, "删除 Remove")));
    rows.append(tr);
    return tr;
  }

  function collect() {
    return [...rows.querySelectorAll("tr.rule")].map((tr) => {
      const value = (name) => tr.querySelector(`[name=${name}]`).value;
      return { pattern: value("pattern").trim(), kind: value("kind"), action: value("action"),
               applies_to: value("applies_to").split(",") };
    }).filter((rule) => rule.pattern);
  }

  function show(set) {
    clear(rows);
    set.rules.forEach((rule) => addRow(rule));
    info.textContent = `${set.count} 条规则 rules · 更新于 updated ${set.updated_at ? when(set.updated_at) : "—"}`;
  }

  async function save() {
    let saved;
    if (await run(async () => { saved = await api.put("/admin/keywords", { rules: collect() }); }, "已保存 saved")) {
      show(saved);
    }
  }

  clear(body).append(
    h("p", { class: "muted" }, "拦截: 含该词的消息被拒绝 (content_blocked); 打码: 以 * 代替; 命中任一适用于商品的规则的商品进入审核。"),
    h("table", { class: "rules" },
      h("thead", {}, h("tr", {}, ["模式 pattern", "类型 kind", "动作 action", "适用 applies to", ""].map((t) => h("th", {}, t)))),
      rows),
    h("div", { class: "actions" },
      h("button", { type: "button", id: "add-rule", onclick: () => addRow().querySelector("input").focus() }, "+ 添加 Add rule"),
      h("button", { type: "button", id: "save-rules", class: "primary", onclick: save }, "保存 Save"),
      info));
  show(await api.get("/admin/keywords"));
}
