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

/* Spread before/after the first answer, and the officer's draft buttons. */
document.addEventListener("DOMContentLoaded", () => {
  const TF = window.TF;
  const data = TF.pageData();
  const node = document.getElementById("effect-chart");
  const e = data.effect;
  if (node && e && window.echarts) {
    const chart = window.echarts.init(node, null, { renderer: "svg" });
    const v = (x) => (x === null || x === undefined ? 0 : x);
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
  const box = document.getElementById("draft-buttons");
  if (!box) return;
  const msg = document.getElementById("draft-msg");
  box.addEventListener("click", async (ev) => {
    const btn = ev.target.closest && ev.target.closest("button[data-kind]");
    if (!btn) return;
    box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    msg.textContent = "正在起草…";
    const resp = await TF.api("POST", "/api/v1/bulletins", { incident_id: box.dataset.incident, kind: btn.dataset.kind });
    if (resp.ok) {
      window.location.assign("/bulletins/" + encodeURIComponent(resp.data.id));
      return;
    }
    box.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    msg.textContent = "起草失败：" + TF.problems(resp.data);
    msg.classList.add("error");
  });
});
