/* Reports page: incidents by category and district, response compliance per tier. */
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const r = window.TF.pageData().report;
  if (!r || !window.echarts) return;
  const charts = [];
  function draw(id, option, empty) {
    const node = document.getElementById(id);
    if (!node) return;
    if (empty) { node.textContent = "本期暂无数据"; node.classList.add("empty"); return; }
    const chart = window.echarts.init(node, null, { renderer: "svg" });
    chart.setOption({ animation: false, tooltip: {}, ...option });
    charts.push(chart);
  }
  const narrow = document.documentElement.clientWidth < 600;
  draw("category-chart", {
    tooltip: { trigger: "item" },
    legend: narrow ? { bottom: 0, type: "scroll" } : undefined,
    series: [{
      type: "pie", radius: narrow ? ["28%", "55%"] : ["35%", "65%"], name: "事件数",
      center: ["50%", narrow ? "45%" : "50%"],
      data: r.by_category.map((c) => ({ name: c.name, value: c.count })),
      label: narrow ? { position: "inside", formatter: "{c}" } : { formatter: "{b}：{c}" },
    }],
  }, !r.by_category.length);
  draw("district-chart", {
    grid: { left: 72, right: 16, top: 8, bottom: 24 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: r.by_district.map((c) => c.name).reverse() },
    series: [{ type: "bar", name: "事件数", data: r.by_district.map((c) => c.count).reverse() }],
  }, !r.by_district.length);
  const tiers = r.compliance.map((c) => window.TF.tierName(c.tier));
  draw("compliance-chart", {
    grid: { left: 48, right: 16, top: 28, bottom: 24 },
    legend: { top: 0 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: tiers },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { type: "bar", stack: "a", name: "按时", data: r.compliance.map((c) => c.on_time), itemStyle: { color: "#2e7d32" } },
      { type: "bar", stack: "a", name: "超时", data: r.compliance.map((c) => c.late), itemStyle: { color: "#c62828" } },
      { type: "bar", stack: "a", name: "未回应", data: r.compliance.map((c) => c.open), itemStyle: { color: "#b26a00" } },
    ],
  }, !r.compliance.length);
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
});
