// Groups and rooms: list any group, create a room or a user group, open a conversation (#groups/ID) to see
// its members and messages — live over the admin's socket where the admin is a member, polled otherwise —
// add or remove members, appoint admins, set the owner, mute, dissolve a user group, and send a test or
// system message. Every history read is audit-logged by the server.
import { clear, h, yuan } from "/web/dom.js";
import { MessageList } from "/web/messages.js";
import { ask, frame, pager, run, table, when } from "/admin/ui.js";

/** How often the console checks a group it gets no pushes for (it is not a member). */
const WATCH_EVERY_MS = 2000;

const state = { kind: "", q: "", page: 1 };

function title(g) {
  return g.name || (g.listing ? g.listing.title : `${g.kind} #${g.id}`);
}

export async function render(root, ctx) {
  const { api } = ctx;
  const openId = Number(location.hash.split("/")[1]) || null;
  const kind = h("select", { name: "kind" },
    [["", "全部 all"], ["item", "商品咨询 item"], ["direct", "私聊 direct"], ["group", "群组 group"],
     ["room", "聊天室 room"]]
      .map(([v, l]) => h("option", { value: v }, l)));
  kind.value = state.kind;
  const q = h("input", { name: "q", type: "search", placeholder: "群名或商品标题 name or listing title", value: state.q });
  const filters = h("form", { class: "filters", onsubmit: (e) => {
    e.preventDefault();
    Object.assign(state, { kind: kind.value, q: q.value.trim(), page: 1 });
    load();
  } }, kind, q, h("button", { type: "submit" }, "搜索 Search"),
  h("button", { type: "button", id: "create-room", class: "primary", onclick: createRoom }, "+ 新建聊天室 New room"),
  h("button", { type: "button", id: "create-group", class: "primary", onclick: createGroup }, "+ 新建群组 New group"));
  const body = frame(root, "群组与聊天室 Groups and rooms", filters);
  const left = h("div", { class: "left" });
  const right = h("div", { class: "right", id: "conversation" });
  body.append(h("div", { class: "split" }, left, openId ? right : null));

  async function createRoom() {
    const values = await ask("新建聊天室 New room", [
      { name: "name", label: "名称 name", required: true }, { name: "description", label: "简介 description", type: "textarea" }],
    "创建 Create");
    let room;
    if (values && await run(async () => { room = await api.post("/admin/rooms", values); }, "已创建 created")) {
      location.hash = `groups/${room.id}`;
    }
  }

  async function createGroup() {
    const values = await ask("新建群组 New group", [
      { name: "name", label: "群名 name", required: true },
      { name: "owner_id", label: "群主用户 id owner's user id", type: "number", required: true },
      { name: "user_ids", label: "成员 id, 逗号分隔 member ids, comma separated" }], "创建 Create");
    if (!values) return;
    const userIds = values.user_ids.split(/[\s,,]+/).filter(Boolean).map(Number);
    let group;
    if (await run(async () => {
      group = await api.post("/admin/groups", { kind: "group", name: values.name, owner_id: Number(values.owner_id),
                                                user_ids: userIds });
    }, "已创建 created")) {
      location.hash = `groups/${group.id}`;
    }
  }

  async function load() {
    const result = await api.get("/admin/groups", { kind: state.kind, q: state.q, page: state.page, page_size: 20 });
    clear(left).append(table([
      { title: "#", cell: (g) => String(g.id) },
      { title: "类型 kind", cell: (g) => g.kind },
      { title: "名称 name", class: "clip", cell: (g) => h("div", {}, title(g),
        g.listing ? h("span", { class: "muted" }, ` ${yuan(g.listing.price_cents)} · ${g.listing.status}`) : null,
        g.read_only ? h("span", { class: "tag" }, "只读 read-only") : null) },
      { title: "成员 members", cell: (g) => String(g.member_count) },
      { title: "消息 messages", cell: (g) => String(g.last_seq) },
      { title: "最近 last", cell: (g) => when(g.last_message_at) },
      { title: "", cell: (g) => h("a", { href: `#groups/${g.id}`, dataset: { open: g.id } }, "打开 Open") },
    ], result.items, { rowData: (g) => ({ groupId: g.id }) }), pager(result, (p) => { state.page = p; load(); }));
  }

  await load();
  if (openId) await openConversation(right, ctx, openId);
}

async function openConversation(panel, ctx, groupId) {
  const { api, client, me } = ctx;
  const head = h("div", { class: "panel-head" });
  const list = h("ol", { class: "messages", id: "admin-messages" });
  const messages = new MessageList(list, { isOwn: (m) => Boolean(m.sender && m.sender.id === me.id) });
  const type = h("select", { name: "type" }, [["txt", "测试消息 test (txt)"], ["system", "系统消息 system"]]
    .map(([v, l]) => h("option", { value: v }, l)));
  const text = h("input", { name: "text", placeholder: "消息内容 message text", maxlength: 2000, autocomplete: "off" });
  const composer = h("form", { class: "composer", id: "admin-composer", onsubmit: async (e) => {
    e.preventDefault();
    if (!text.value.trim()) return;
    let sent;
    if (await run(async () => {
      sent = await api.post(`/admin/groups/${groupId}/messages`, { type: type.value, body: { text: text.value.trim() } });
    })) {
      text.value = "";
      messages.add(sent);
      list.scrollTop = list.scrollHeight;
    }
  } }, type, text, h("button", { type: "submit", class: "primary" }, "发送 Send"));
  clear(panel).append(head, list, composer);

  let hasOlder = false;
  async function page(query) {
    const result = await api.get(`/admin/groups/${groupId}/messages`, { limit: 50, ...query });
    result.items.forEach((m) => messages.add(m));
    return result;
  }
  async function older() {
    if (hasOlder) hasOlder = (await page({ before_seq: messages.firstSeq })).next_cursor !== null;
    renderHead();
  }
  async function newer() {
    await page({ after_seq: messages.lastSeq });
    list.scrollTop = list.scrollHeight;
  }

  let group;
  async function renderHead() {
    group = await api.get(`/admin/groups/${groupId}`);
    const isMember = group.members.some((m) => m.user.id === me.id);
    const managed = group.kind === "room" || (group.kind === "group" && !group.read_only);
    const muted = (m) => m.muted_until && new Date(m.muted_until) > new Date();
    clear(head).append(
      h("div", { class: "title" }, `#${group.id} ${title(group)}`, " ", h("span", { class: "tag" }, group.kind),
        " ", h("span", { class: "muted" }, `${group.member_count} 人 members`),
        group.kind === "group" && group.read_only ? h("span", { class: "tag" }, "已解散 dissolved") : null),
      h("ul", { class: "members" }, group.members.map((m) => h("li", { dataset: { userId: m.user.id, role: m.role } },
        `${m.user.nickname} #${m.user.id} · ${m.role}`,
        muted(m) ? h("span", { class: "tag" }, "禁言 muted") : null,
        managed && m.role !== "owner" ? [
          h("button", { type: "button", title: "设为群主 make owner", dataset: { action: "owner" },
                        onclick: () => setOwner(m.user.id) }, "群主"),
          h("button", { type: "button", title: "禁言 mute", dataset: { action: "mute" },
                        onclick: () => mute(m.user.id) }, "禁言"),
          h("button", { type: "button", title: "移除 remove", dataset: { action: "remove" },
                        onclick: () => removeMember(m.user.id) }, "×")] : null))),
      h("div", { class: "actions" },
        managed ? h("button", { type: "button", id: "add-member", onclick: addMember }, "+ 成员 Add member") : null,
        managed ? h("button", { type: "button", id: "set-owner", onclick: () => setOwner(null) }, "设置群主 Set owner") : null,
        group.kind === "group" && !group.read_only
          ? h("button", { type: "button", id: "dissolve-group", onclick: dissolve }, "解散 Dissolve") : null,
        hasOlder ? h("button", { type: "button", onclick: older }, "更早 Older") : null,
        h("button", { type: "button", title: "刷新 (读取会记入审计) refresh (audited)", onclick: newer }, "↻ 刷新 Refresh"),
        h("span", { class: "muted", id: "live-mode" }, isMember ? "实时 live" : "实时 (轮询) live (polled)")));
    return isMember;
  }
  async function addMember() {
    const values = await ask("添加成员 Add member", [
      { name: "user_id", label: "用户 id user id", type: "number", required: true },
      { name: "role", label: "角色 role", type: "select", options: [["member", "成员 member"], ["admin", "管理员 admin"]] }],
    "添加 Add");
    if (values && await run(() => api.post(`/admin/groups/${groupId}/members`,
                                           { user_id: Number(values.user_id), role: values.role }), "已添加 added")) {
      renderHead();
    }
  }
  async function removeMember(userId) {
    if (await run(() => api.del(`/admin/groups/${groupId}/members/${userId}`), "已移除 removed")) renderHead();
  }
  // The owner (the old console's super admin): any user; the previous owner stays as an admin.
  async function setOwner(userId) {
    let id = userId;
    if (id === null) {
      const values = await ask("设置群主 Set owner", [
        { name: "user_id", label: "用户 id user id", type: "number", required: true }], "确定 OK");
      if (!values) return;
      id = Number(values.user_id);
    }
    if (await run(() => api.put(`/admin/groups/${groupId}/owner`, { user_id: id }), "已设置 owner set")) renderHead();
  }
  async function mute(userId) {
    const values = await ask("禁言 Mute", [
      { name: "seconds", label: "时长 (秒, 0 解除) seconds (0 lifts it)", type: "number", required: true, value: "600" }],
    "确定 OK");
    if (values && await run(() => api.post(`/admin/groups/${groupId}/members/${userId}/mute`,
                                           { seconds: Number(values.seconds) }), "已禁言 muted")) {
      renderHead();
    }
  }
  async function dissolve() {
    if (await run(() => api.del(`/admin/groups/${groupId}`), "已解散 dissolved")) renderHead();
  }

  hasOlder = (await page({})).next_cursor !== null;
  const isMember = await renderHead();
  list.scrollTop = list.scrollHeight;
  // Not a member: the server pushes nothing of this group to the admin's socket. Watch its last_seq (group
  // metadata, not audited) and read history only when there is something new: each such read is audited.
  let polling = false;
  const watch = isMember ? null : setInterval(async () => {
    if (polling) return;
    polling = true;
    try {
      const latest = await api.get(`/admin/groups/${groupId}`);
      if (latest.last_seq > (messages.lastSeq || 0)) await newer();
    } catch (_err) {
      // A failed poll is retried at the next tick.
    } finally {
      polling = false;
    }
  }, WATCH_EVERY_MS);
  const stopListening = client.on("message", (message) => {
    if (message.group_id !== groupId) return;
    messages.add(message);
    list.scrollTop = list.scrollHeight;
  });
  ctx.leave = () => {
    stopListening();
    if (watch) clearInterval(watch);
  };
}
