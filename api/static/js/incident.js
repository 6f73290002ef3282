/* Incident page: the spread-velocity chart (posts per hour). */
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const data = window.TF.pageData();
  const node = document.getElementById("velocity-chart");
  if (!node || !window.echarts) return;
  const series = data.series || [];
  if (!series.length) { node.textContent = "暂无数据"; return; }
  const chart = window.echarts.init(node, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    grid: { left: 40, right: 16, top: 16, bottom: 40 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: series.map((s) => s.hour.replace("T", " ")) },
    yAxis: { type: "value", name: "帖/小时", minInterval: 1 },
    series: [{ type: "line", name: "每小时帖数", data: series.map((s) => s.posts), areaStyle: {}, smooth: false, showSymbol: series.length < 48 }],
    dataZoom: series.length > 48 ? [{ type: "inside" }, { type: "slider", height: 16, bottom: 4 }] : [],
  });
  window.addEventListener("resize", () => chart.resize());
});

/* The office's answer (loaded from the API after the page): tier history, responses,
   this incident's bulletins, earlier rebuttals, spread before/after the first answer; and
   the officer's draft buttons. */
document.addEventListener("DOMContentLoaded", () => {
  const TF = window.TF;
  const root = document.getElementById("incident");
  if (!root) return;
  const id = root.dataset.id;
  const $ = (x) => document.getElementById(x);
  const LINKED = { incident: "事件内官方帖", claim: "回应了流传说法", bulletin: "通报发布" };
  // Each deadline's label from the policy in force and this incident's alerts (the page
  // data); a name neither knows is shown as 回应时限, never as the policy's internal name.
  const DEADLINES = TF.pageData().deadline_labels || {};
  const deadline = (name) => DEADLINES[name] || "回应时限";
  const tier = (t) => TF.el("span", { class: "tier tier-" + t, "data-tier": t, text: TF.tierName(t) });
  function fill(node, items, empty, row) {
    node.textContent = "";
    if (!items.length) { node.append(TF.el("li", { class: "muted", text: empty })); return; }
    for (const item of items) node.append(row(item));
  }
  function statusTag(b) { return TF.el("span", { class: "tag st-" + b.status, text: b.status_label }); }

  function drawEffect(e) {
    const text = $("effect-text"), node = $("effect-chart"), figures = $("effect-figures");
    if (!e) {
      text.textContent = "尚未回应：发布通报或关联官方回应后，这里对比回应前后的传播。";
      return;
    }
    const v = (x) => (x === null || x === undefined ? 0 : x);
    text.classList.remove("muted");
    text.textContent = `首次回应：${TF.localTime(e.answered_at)}（${e.answer}）。回应前 ${e.before.hours} 小时、回应后 ${e.after.hours} 小时。`;
    const pct = (x) => (x === null || x === undefined ? "—" : Math.round(x * 100) + "%");
    figures.textContent = `回应前：${e.before.claim_posts} 帖、${e.before.reposts} 转发，质疑占 ${pct(e.before.doubt_share)} · 回应后：${e.after.claim_posts} 帖、${e.after.reposts} 转发，辟谣占 ${pct(e.after.rebut_share)}`;
    node.hidden = false;
    node.setAttribute("aria-label", `回应前 ${v(e.before.claim_posts_per_hour)} 帖/时、${v(e.before.reposts_per_hour)} 转发/时；回应后 ${v(e.after.claim_posts_per_hour)} 帖/时、${v(e.after.reposts_per_hour)} 转发/时`);
    if (!window.echarts) return;
    const chart = window.echarts.init(node, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 16, top: 28, bottom: 28 },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: ["回应前", "回应后"] },
      yAxis: { type: "value", name: "每小时" },
      series: [
        { type: "bar", name: "帖/小时", data: [v(e.before.claim_posts_per_hour), v(e.after.claim_posts_per_hour)] },
        { type: "bar", name: "转发/小时", data: [v(e.before.reposts_per_hour), v(e.after.reposts_per_hour)] },
      ],
    });
    window.addEventListener("resize", () => chart.resize());
  }

  async function load() {
    const resp = await TF.api("GET", `/api/v1/incidents/${encodeURIComponent(id)}/response`);
    if (!resp.ok) {
      for (const x of ["tier-history", "responses", "incident-bulletins", "rebuttals"]) {
        fill($(x), [], "加载失败：" + TF.problems(resp.data), null);
      }
      $("effect-text").textContent = "加载失败";
      return;
    }
    const d = resp.data;
    if (d.tier) $("tier-now").append(tier(d.tier));
    fill($("tier-history"), d.tier_history, "尚无预警或级别变化", (s) => {
      const li = TF.el("li", {}, TF.localTime(s.at) + " ");
      if (s.tier) li.append(tier(s.tier), " ");
      li.append(TF.el("span", { text: s.text }));
      return li;
    });
    fill($("responses"), d.responses, "尚未回应", (r) => {
      let text = `${TF.localTime(r.posted_at)} ${r.author || "官方账号"}`;
      if (r.minutes_after_first_seen !== null) text += `（首帖后 ${Math.round(r.minutes_after_first_seen)} 分钟）`;
      text += ` · ${LINKED[r.linked_by] || r.linked_by}`;
      if (r.similarity !== null) text += `（相似度 ${r.similarity.toFixed(2)}）`;
      const li = TF.el("li", {}, text + " ");
      for (const [name, ok] of Object.entries(r.on_time || {})) {
        li.append(TF.el("span", { class: "tag " + (ok ? "ok" : "bad"), text: deadline(name) + (ok ? "按时" : "超时") }), " ");
      }
      if (r.url) li.append(TF.el("a", { href: r.url, rel: "noopener noreferrer", text: "原帖" }), " ");
      if (r.bulletin_id) li.append(TF.el("a", { href: "/bulletins/" + encodeURIComponent(r.bulletin_id), text: "通报" }));
      return li;
    });
    fill($("incident-bulletins"), d.bulletins, "暂无", (b) => TF.el("li", {},
      TF.el("a", { href: "/bulletins/" + encodeURIComponent(b.id), text: b.title || b.id }), " ",
      statusTag(b), " ", TF.el("span", { class: "muted", text: b.kind })));
    fill($("rebuttals"), d.rebuttals, "未找到以往的类似辟谣", (r) => {
      const li = TF.el("li", {},
        TF.el("a", { href: "/bulletins/" + encodeURIComponent(r.bulletin_id), text: r.title }), " ",
        TF.el("span", { class: "muted", text: `${TF.localTime(r.published_at)} · 相似度 ${r.similarity.toFixed(2)}` }));
      if (r.url) li.append(" · ", TF.el("a", { href: r.url, rel: "noopener noreferrer", text: "原帖" }));
      return li;
    });
    drawEffect(d.effect);
  }
  load();

  const box = document.getElementById("draft-buttons");
  if (!box) return;
  const msg = document.getElementById("draft-msg");
  box.addEventListener("click", async (ev) => {
    const btn = ev.target.closest && ev.target.closest("button[data-kind]");
    if (!btn) return;
    box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    msg.textContent = "正在起草…";
    const resp = await TF.api("POST", "/api/v1/bulletins", { incident_id: id, kind: btn.dataset.kind });
    if (resp.ok) {
      window.location.assign("/bulletins/" + encodeURIComponent(resp.data.id));
      return;
    }
    box.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    msg.textContent = "起草失败：" + TF.problems(resp.data);
    msg.classList.add("error");
  });
});
