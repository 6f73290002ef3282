/* 监测台: the alert feed (tier colours, deadline countdowns, acknowledge and assign in one
   click each), hot incidents and sources needing attention, refreshed without reloading. */
"use strict";
(function () {
  const { api, el, localTime, poll, pollMs, sparkline, pageData, problems, busy, duration, tierName, track } = window.TF;
  const bandLabel = { low: "低", medium: "中", high: "高", unscored: "未评分" };
  const UNACKED = new Set(["new", "notified"]);

  // -- alert feed --------------------------------------------------------------------------
  // asked/applied: the feed requests in flight; an answer older than one already shown is
  // dropped (the poll and a click's refresh can cross).
  // server/local/rate: the server's clock at the last answer, the browser's clock then, and
  // how fast the server's clock runs (a demo's story clock: 36 story seconds a second).
  const state = {
    server: Date.now(), local: Date.now(), rate: 1,
    canChange: false, assignees: [], rows: new Map(), asked: 0, applied: 0,
    pending: new Set(), // alert ids with a change on the wire (a double click sends one)
    drafts: new Map(), // bulletin id -> status, for the "draft ready" links
  };

  function say(text, bad) {
    const s = document.getElementById("alert-status");
    s.textContent = text;
    s.className = "status" + (bad ? " error" : "");
  }

  /* The server's clock now: deadlines count against it, not the browser's, at its rate
     (without it a demo's countdowns would stand almost still, then jump at each poll). */
  function serverNow() { return state.server + (Date.now() - state.local) * state.rate; }

  function tick() {
    const now = serverNow();
    document.querySelectorAll(".countdown[data-due]").forEach((node) => {
      const left = Date.parse(node.dataset.due) - now;
      const overdue = left < 0;
      const text = (overdue ? "已超时 " : "剩余 ") + duration(left);
      if (node.textContent !== text) node.textContent = text;
      node.classList.toggle("overdue", overdue);
      node.classList.toggle("soon", !overdue && left < 15 * 60 * 1000);
      node.dataset.left = String(Math.round(left / 1000));
    });
  }

  /* Once a second on a real clock; on a fast story clock often enough that no countdown
     jumps by more than a few story seconds (at 36x: every 100 ms, 3.6 s a step). */
  let ticker = null;
  function ticking() {
    clearTimeout(ticker);
    tick();
    ticker = setTimeout(ticking, Math.max(100, Math.min(1000, 1000 / Math.max(state.rate, 1))));
  }

  function link(a) {
    if (a.incident_id) return "/incidents/" + encodeURIComponent(a.incident_id);
    if (a.source_name) return "/sources#src-" + encodeURIComponent(a.source_name);
    return null;
  }

  function figures(a) {
    const f = a.figures || {};
    const parts = [];
    if (typeof f.heat === "number") parts.push("热度 " + f.heat.toFixed(1));
    if (typeof f.posts_per_hour === "number") parts.push(f.posts_per_hour.toFixed(1) + " 帖/时");
    if (typeof f.posts === "number") parts.push(f.posts + " 帖");
    if (typeof f.rumor_score === "number") parts.push("谣言可能 " + f.rumor_score.toFixed(2));
    return parts.join(" · ");
  }

  function clocks(a) {
    const box = el("div", { class: "clocks" });
    const next = a.next_deadline;
    if (next) {
      box.append(el("span", { class: "other", text: next.label + " · " + localTime(next.due) }));
      box.append(el("span", {
        class: "countdown", "data-due": next.due, role: "timer",
        "aria-label": next.label + "时限 " + localTime(next.due),
      }));
    } else if (a.status !== "closed") {
      box.append(el("span", { class: "other", text: "无回应时限" }));
    }
    for (const d of a.deadlines) {
      if (next && d.name === next.name) continue;
      box.append(doneClock(d));
    }
    return box;
  }

  /* A clock that is not the next one: its due time, 已完成, or — met after it ran out —
     已完成（超时 34 分钟）in red, as the incident page tags that answer 超时. */
  function doneClock(d) {
    if (!d.met_at) return el("span", { class: "other", text: d.label + " " + localTime(d.due) });
    const late = Date.parse(d.met_at) - Date.parse(d.due);
    if (!(late > 0)) return el("span", { class: "other met", text: d.label + " 已完成" });
    return el("span", {
      class: "other met late", "data-late-minutes": String(Math.round(late / 60000)),
      text: d.label + " 已完成（超时 " + lateText(late) + "）",
    });
  }

  function lateText(ms) {
    const minutes = Math.max(1, Math.round(ms / 60000));
    if (minutes < 60) return minutes + " 分钟";
    const h = Math.floor(minutes / 60), m = minutes % 60;
    if (h < 24) return h + " 小时" + (m ? " " + m + " 分钟" : "");
    return Math.floor(h / 24) + " 天" + (h % 24 ? " " + (h % 24) + " 小时" : "");
  }

  function officerSelect(a) {
    const sel = el("select", {
      "data-action": "assignee", "aria-label": "承办人：" + a.title,
    });
    for (const u of state.assignees) {
      sel.append(el("option", { value: u.name, text: u.display_name + "（" + u.role_label + "）" }));
    }
    const officer = state.assignees.find((u) => u.role === "officer");
    sel.value = a.assignee && state.assignees.some((u) => u.name === a.assignee)
      ? a.assignee : (officer ? officer.name : (state.assignees[0] || {}).name || "");
    return sel;
  }

  function actions(a) {
    const box = el("div", { class: "actions" });
    if (a.assignee) {
      box.append(el("span", { class: "who-has", text: "承办：" + (a.assignee_name || a.assignee) + (a.department ? "（" + a.department + "）" : "") }));
    } else if (a.acknowledged_by) {
      const by = state.assignees.find((u) => u.name === a.acknowledged_by);
      box.append(el("span", { class: "who-has muted", text: "已由 " + (by ? by.display_name : a.acknowledged_by) + " 确认" }));
    }
    if (!state.canChange || a.status === "closed") return box;
    if (UNACKED.has(a.status)) {
      const ack = el("button", { type: "button", "data-action": "ack", text: "确认" });
      ack.addEventListener("click", () => change(a, "acknowledge", {}));
      box.append(ack);
    }
    if (state.assignees.length) {
      const sel = officerSelect(a);
      const go = el("button", {
        type: "button", "data-action": "assign",
        text: a.assignee ? "改派" : "交办", "aria-label": (a.assignee ? "改派" : "交办") + "：" + a.title,
      });
      go.addEventListener("click", () => change(a, "assign", { assignee: sel.value }));
      box.append(sel, go);
    }
    const more = el("details", {}, el("summary", { text: "回应 / 关闭" }));
    const respond = el("form", {},
      el("input", { name: "url", type: "url", required: true, placeholder: "官方回应链接 https://…", "aria-label": "官方回应链接", maxlength: "2000" }),
      el("button", { type: "submit", "data-action": "respond", text: "登记回应" }));
    respond.addEventListener("submit", (ev) => {
      ev.preventDefault();
      change(a, "respond", { url: respond.elements.url.value.trim() });
    });
    const close = el("form", {},
      el("input", { name: "reason", required: true, placeholder: "关闭原因", "aria-label": "关闭原因", maxlength: "500" }),
      el("button", { type: "submit", class: "secondary", "data-action": "close", text: "关闭预警" }));
    close.addEventListener("submit", (ev) => {
      ev.preventDefault();
      change(a, "close", { reason: close.elements.reason.value.trim() });
    });
    more.append(respond, close);
    box.append(more);
    return box;
  }

  function row(a) {
    const href = link(a);
    const title = href ? el("a", { href, text: a.title || a.id }) : el("span", { text: a.title || a.id });
    const badge = el("span", { class: "tier-badge tier-" + a.colour, text: a.tier_name + " " + a.tier_label, title: a.colour_name + "预警" });
    const head = el("div", { class: "head" }, badge, title,
      el("span", { class: "status-tag st-" + a.status, text: a.status_label }));
    const where = [a.district, a.department].filter(Boolean).join(" · ");
    const meta = el("div", { class: "meta" },
      el("span", { text: "规则「" + a.rule + "」" + (a.reason && a.reason !== a.rule ? "：" + a.reason : "") }),
      where ? el("span", { text: " · " + where }) : "",
      figures(a) ? el("span", { text: " · " + figures(a) }) : "",
      el("span", { text: " · 开始于 " + localTime(a.opened_at) }));
    if (a.new_appeal) {
      // Answered, yet a clock runs again: say why (another resident's appeal came in).
      meta.append(el("div", { class: "new-appeal", text: "新诉求：" + a.new_appeal }));
    }
    if (a.draft_id && !DRAFT_DONE.has(state.drafts.get(a.draft_id))) {
      meta.append(el("div", { class: "draft-ready", "data-bulletin": a.draft_id },
        el("a", { href: "/bulletins/" + encodeURIComponent(a.draft_id), "data-action": "draft",
          text: "辟谣草稿已就绪，去编辑审核" })));
    }
    const li = el("li", {
      class: "alert tier-" + a.colour, "data-id": a.id, "data-version": String(a.version),
      "data-tier": a.tier, "data-status": a.status,
    }, head, clocks(a), meta, actions(a));
    return li;
  }

  /* Bulletin statuses past the draft: the "draft ready" link has nothing left to ask. */
  const DRAFT_DONE = new Set(["approved", "published"]);

  /* The status of each bulletin drafted for an alert in the feed (one read each; a
     published one is final and not read again), then drop the links of those done. */
  async function refreshDrafts() {
    const ids = new Set();
    for (const node of state.rows.values()) {
      node.querySelectorAll(".draft-ready[data-bulletin]").forEach((d) => ids.add(d.dataset.bulletin));
    }
    const todo = [...ids].filter((id) => state.drafts.get(id) !== "published");
    const answers = await Promise.all(todo.map((id) => api("GET", "/api/v1/bulletins/" + encodeURIComponent(id))));
    answers.forEach((r, i) => { if (r.ok && r.data) state.drafts.set(todo[i], r.data.status); });
    document.querySelectorAll("#alert-list .draft-ready[data-bulletin]").forEach((d) => {
      if (DRAFT_DONE.has(state.drafts.get(d.dataset.bulletin))) d.remove();
    });
    return answers.every((r) => r.ok);
  }

  function tierCounts(byTier, data) {
    const box = document.getElementById("alert-tiers");
    const colour = {};
    for (const a of data) colour[a.tier] = a.colour;
    const fallback = { I: "red", II: "orange", III: "yellow", IV: "blue" };
    box.replaceChildren(...Object.entries(byTier).filter(([, n]) => n > 0).map(([t, n]) =>
      el("span", { class: "tier-badge tier-" + (colour[t] || fallback[t]), text: tierName(t) + " " + n })));
  }

  /* Keyed update: an unchanged alert keeps its element (and the focus, the chosen officer,
     a half-typed reason); a changed one is rebuilt and the focus follows it. */
  function renderFeed(feed) {
    state.server = Date.parse(feed.server_time);
    state.local = Date.now();
    const rate = typeof feed.clock_rate === "number" && feed.clock_rate >= 0 ? feed.clock_rate : 1;
    const faster = rate > state.rate;
    state.rate = rate;
    if (faster && ticker !== null) ticking();  // not a second at the old pace first
    const list = document.getElementById("alert-list");
    const active = document.activeElement;
    const focusLi = active && active.closest ? active.closest("li.alert") : null;
    const focusKey = focusLi ? [focusLi.dataset.id, active.dataset.action || active.name || ""] : null;
    const next = new Map();
    const nodes = feed.data.map((a) => {
      const old = state.rows.get(a.id);
      const node = old && old.dataset.version === String(a.version) ? old : row(a);
      if (old && old !== node) old.remove();  // never two rows for one alert
      next.set(a.id, node);
      return node;
    });
    for (const [id, node] of state.rows) if (!next.has(id)) node.remove();
    nodes.forEach((node, i) => {
      if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
    });
    while (list.children.length > nodes.length) list.lastElementChild.remove();
    state.rows = next;
    if (focusKey && !list.contains(document.activeElement)) {
      const li = next.get(focusKey[0]);
      const target = li && (li.querySelector(`[data-action="${focusKey[1]}"]`) || li.querySelector("button, select, a"));
      if (target) target.focus();
    }
    document.getElementById("alert-count").textContent = feed.count;
    document.getElementById("alert-empty").hidden = feed.data.length > 0;
    tierCounts(feed.open_by_tier, feed.data);
    tick();
  }

  async function refreshAlerts() {
    const asked = ++state.asked;
    const r = await api("GET", "/api/v1/alerts?per_page=100");
    if (r.ok && asked > state.applied) {
      state.applied = asked;
      renderFeed(r.data);
    }
    return r.ok;
  }

  const done = { acknowledge: "已确认", assign: "已交办", respond: "已登记回应", close: "已关闭" };

  /* One change per alert at a time, with its row's buttons disabled while it is on the
     wire: a double-clicked 登记回应 is one request, not a second one meeting a 409. */
  async function change(a, action, body) {
    if (state.pending.has(a.id)) return;
    state.pending.add(a.id);
    const li = state.rows.get(a.id);
    const buttons = li ? [...li.querySelectorAll("button")] : [];
    try {
      await busy(buttons, () => send(a, action, body));
    } finally {
      state.pending.delete(a.id);
    }
  }

  async function send(a, action, body) {
    const current = state.rows.get(a.id);
    const version = current ? Number(current.dataset.version) : a.version;
    const r = await api("POST", "/api/v1/alerts/" + encodeURIComponent(a.id) + "/" + action, { version, ...body });
    if (r.ok) {
      say(done[action] + "：" + (r.data.title || r.data.id) + (action === "assign" ? "（承办 " + (r.data.assignee_name || r.data.assignee) + "）" : ""));
    } else if (r.status === 409) {
      say("该预警已被他人更新（" + problems(r.data) + "），已载入最新状态，请确认后重试", true);
    } else {
      say(problems(r.data), true);
    }
    await refreshAlerts();
    const node = state.rows.get(a.id);
    if (node && r.ok) {
      const focus = node.querySelector('[data-action="assign"]') || node.querySelector("button, select, a");
      if (focus) focus.focus();
    }
  }

  // -- hot incidents and sources -------------------------------------------------------------
  function incidentRow(inc) {
    const link = el("a", { href: "/incidents/" + encodeURIComponent(inc.id), text: inc.title || inc.id });
    const first = el("td", {}, link);
    if (inc.burst) first.append(" ", el("span", { class: "tag burst", text: "爆发" }));
    const spark = el("span", {
      class: "spark", role: "img", "data-values": inc.sparkline.join(","),
      "aria-label": "传播速度 6小时/1小时/15分钟：" + inc.sparkline.join("、") + " 帖/小时",
    });
    const v1h = (inc.velocity.posts_per_h_1h || 0).toFixed(1);
    const score = inc.rumor_score === null ? "" : " " + inc.rumor_score.toFixed(2);
    const tr = el("tr", { "data-id": inc.id },
      first,
      el("td", { text: inc.district || "—" }),
      el("td", { text: inc.category || "—" }),
      el("td", { class: "num", text: inc.heat.toFixed(1) }),
      el("td", {}, spark, " ", el("span", { class: "num", text: v1h })),
      el("td", {}, el("span", { class: "band band-" + inc.rumor_band, text: bandLabel[inc.rumor_band] + score })),
      el("td", { class: "tier-cell", "data-tier": inc.tier || "", text: inc.tier_name || "—" }),
      el("td", {}, el("time", { datetime: inc.last_seen || "", text: localTime(inc.last_seen) })),
    );
    sparkline(spark);
    return tr;
  }

  // A live refresh rebuilds a list; a keyboard user's focus on one of its links must not
  // be lost (it would drop to <body> on every poll): refocus the same link afterwards.
  function keepFocus(container, rebuild) {
    const active = document.activeElement;
    const href = active && container.contains(active) && active.tagName === "A" ? active.getAttribute("href") : null;
    rebuild();
    if (href === null) return;
    const again = Array.from(container.querySelectorAll("a")).find((a) => a.getAttribute("href") === href);
    if (again) again.focus({ preventScroll: true });
  }

  function recentItem(inc) {
    return el("li", { "data-id": inc.id },
      el("a", { href: "/incidents/" + encodeURIComponent(inc.id), text: inc.title || inc.id }), " ",
      el("span", { class: "muted", text: (inc.district ? inc.district + " " : "") + inc.post_count + " 帖" }));
  }

  async function refresh() {
    const [alertsOk, hot, sources, recent] = await Promise.all([
      refreshAlerts(),
      api("GET", "/api/v1/incidents?hot=true&per_page=20"),
      api("GET", "/api/v1/sources?counts=false"),
      api("GET", "/api/v1/incidents?sort=last_seen&per_page=10"),
    ]);
    const draftsOk = await refreshDrafts();
    if (recent.ok) {
      const list = document.getElementById("recent-list");
      const items = recent.data.data.map(recentItem);
      keepFocus(list, () => list.replaceChildren(...(items.length ? items
        : [el("li", { class: "empty", text: "暂无事件。" })])));
    }
    if (hot.ok) {
      const body = document.getElementById("hot-body");
      keepFocus(body, () => body.replaceChildren(...hot.data.data.map(incidentRow)));
      document.getElementById("hot-count").textContent = hot.data.count;
      document.getElementById("hot-empty").hidden = hot.data.data.length > 0;
    }
    if (sources.ok) {
      const bad = sources.data.data.filter((s) => s.configured && s.enabled && s.healthy === false);
      const list = document.getElementById("attn-list");
      keepFocus(list, () => list.replaceChildren(...bad.map((s) => el("li", {},
        el("a", { href: "/sources#src-" + s.name, text: s.title || s.name }), "：",
        el("span", { class: "reason", text: s.reason_zh || "" })))));
      document.getElementById("attn-count").textContent = bad.length;
      document.getElementById("attn-empty").hidden = bad.length > 0;
    }
    if (alertsOk && hot.ok && sources.ok && recent.ok && draftsOk) {
      document.getElementById("updated").textContent = "更新于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const data = pageData();
    state.canChange = Boolean(data.can_change);
    state.assignees = data.assignees || [];
    track(refreshAlerts().then(refreshDrafts));
    ticking();
  });
  poll(refresh, pollMs);
})();
