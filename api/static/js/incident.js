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
