/* Search page: per-day histogram of the matches. */
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const data = window.TF.pageData();
  const node = document.getElementById("day-chart");
  if (!node || !window.echarts) return;
  const days = data.days || [];
  if (!days.length) { node.hidden = true; return; }
  const chart = window.echarts.init(node, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    grid: { left: 40, right: 12, top: 12, bottom: 28 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: days.map((d) => d.value) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", name: "每日帖数", barMaxWidth: 36, data: days.map((d) => d.count) }],
  });
  window.addEventListener("resize", () => chart.resize());
});
