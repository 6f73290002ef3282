/* 我的待办: alerts handed to me with a countdown to their nearest deadline (against the
   server's clock, at its rate), bulletins awaiting my approval, my drafts; refreshed from
   GET /api/v1/me/tasks on the page's poll, the nav's figure with it. */
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const { api, el, localTime, poll, pollMs, pageData, problems, duration, tierName } = window.TF;
  const state = { server: 0, local: 0, rate: 1 };
  const $ = (x) => document.getElementById(x);
  const serverNow = () => state.server + (Date.now() - state.local) * state.rate;

  function tick() {
    const now = serverNow();
    document.querySelectorAll(".countdown[data-due]").forEach((node) => {
      const left = Date.parse(node.dataset.due) - now;
      const overdue = left < 0;
      const text = (overdue ? "已超时 " : "剩余 ") + duration(left);
      if (node.textContent !== text) node.textContent = text;
      node.classList.toggle("overdue", overdue);
      node.classList.toggle("soon", !overdue && left < 15 * 60 * 1000);
    });
  }

  function empty(text) { return el("li", { class: "muted empty", text }); }

  function alertItem(a) {
    const href = a.incident_id ? "/incidents/" + encodeURIComponent(a.incident_id) : "/";
    const head = el("div", { class: "head" },
      el("span", { class: "tier-badge tier-" + a.colour, text: tierName(a.tier) }),
      el("a", { href, text: a.title || a.id }),
      el("span", { class: "tag", text: a.status_label }));
    const meta = [a.district, a.category, a.department ? "承办部门：" + a.department : null,
      "开启于 " + localTime(a.opened_at)].filter(Boolean).join(" · ");
    const clocks = el("div", { class: "clocks" });
    const next = a.next_deadline;
    if (next) {
      // "label · time" as on the 监测台: a label of its own in brackets, 答复新诉求（首次回应）,
      // would read 答复新诉求（首次回应）（12-04 13:28） with the time bracketed after it.
      clocks.append(el("span", { class: "other", text: next.label + " · " + localTime(next.due) }),
        el("span", { class: "countdown", "data-due": next.due, role: "timer" }));
    } else {
      clocks.append(el("span", { class: "other", text: "时限均已完成" }));
    }
    const li = el("li", { class: "alert tier-" + a.colour, "data-id": a.id }, head, clocks,
      el("div", { class: "meta", text: meta }));
    if (a.new_appeal) li.append(el("div", { class: "new-appeal", text: "新诉求：" + a.new_appeal }));
    const actions = el("div", { class: "actions" }, el("a", { href: "/", text: "到监测台处理" }));
    if (a.draft_id) actions.append(el("a", { href: "/bulletins/" + encodeURIComponent(a.draft_id), text: "查看通报草稿" }));
    li.append(actions);
    return li;
  }

  function bulletinItem(b) {
    const li = el("li", { "data-id": b.id },
      el("a", { href: "/bulletins/" + encodeURIComponent(b.id), text: b.title || b.id }), " ",
      el("span", { class: "tag st-" + b.status, text: b.status_label }));
    const meta = [b.incident_title ? "事件：" + b.incident_title : null,
      b.drafted_by ? "起草：" + b.drafted_by : null,
      b.placeholders ? b.placeholders + " 处待核实" : null,
      "更新于 " + localTime(b.updated_at)].filter(Boolean).join(" · ");
    li.append(el("div", { class: "muted", text: meta }));
    return li;
  }

  function fill(listId, countId, items, row, none) {
    const list = $(listId);
    if (!list || !items) return;
    list.replaceChildren(...(items.length ? items.map(row) : [empty(none)]));
    const count = $(countId);
    if (count) count.textContent = String(items.length);
  }

  function render(t) {
    state.server = Date.parse(t.server_time);
    state.local = Date.now();
    state.rate = typeof t.clock_rate === "number" && t.clock_rate >= 0 ? t.clock_rate : 1;
    fill("assigned-list", "assigned-count", t.assigned, alertItem, "目前没有交办给你的预警。");
    fill("review-list", "review-count", t.review, bulletinItem, "目前没有待你审核的通报。");
    fill("drafts-list", "drafts-count", t.drafts, bulletinItem, "没有未发布的草稿。");
    const total = $("task-total");
    total.textContent = String(t.count);
    total.setAttribute("aria-label", "共 " + t.count + " 项");
    const nav = $("nav-count-tasks");
    if (nav) {
      nav.textContent = String(t.count);
      nav.setAttribute("aria-label", t.count + " 项");
      nav.hidden = !t.count;
    }
    tick();
  }

  render(pageData().tasks);
  let ticker = null;
  (function ticking() {
    clearTimeout(ticker);
    tick();
    ticker = setTimeout(ticking, Math.max(100, Math.min(1000, 1000 / Math.max(state.rate, 1))));
  })();
  poll(async () => {
    const r = await api("GET", "/api/v1/me/tasks");
    const status = $("tasks-status");
    if (!r.ok) { status.textContent = "刷新失败：" + problems(r.data); status.classList.add("error"); return; }
    status.textContent = "";
    status.classList.remove("error");
    render(r.data);
  }, pollMs);
});
