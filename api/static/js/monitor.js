/* 监测台: refresh hot incidents and sources needing attention without reloading. */
"use strict";
(function () {
  const { api, el, localTime, poll, pollMs, sparkline } = window.TF;
  const bandLabel = { low: "低", medium: "中", high: "高", unscored: "未评分" };

  function row(inc) {
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
      el("td", {}, el("time", { datetime: inc.last_seen || "", text: localTime(inc.last_seen) })),
    );
    sparkline(spark);
    return tr;
  }

  async function refresh() {
    const [hot, sources] = await Promise.all([
      api("GET", "/api/v1/incidents?hot=true&per_page=20"),
      api("GET", "/api/v1/sources?counts=false"),
    ]);
    if (hot.ok) {
      const body = document.getElementById("hot-body");
      body.replaceChildren(...hot.data.data.map(row));
      document.getElementById("hot-count").textContent = hot.data.count;
      document.getElementById("hot-empty").hidden = hot.data.data.length > 0;
    }
    if (sources.ok) {
      const bad = sources.data.data.filter((s) => s.configured && s.enabled && s.healthy === false);
      const list = document.getElementById("attn-list");
      list.replaceChildren(...bad.map((s) => el("li", {},
        el("a", { href: "/sources#src-" + s.name, text: s.title || s.name }), "：",
        el("span", { class: "reason", text: s.reason_zh || "" }))));
      document.getElementById("attn-count").textContent = bad.length;
      document.getElementById("attn-empty").hidden = bad.length > 0;
    }
    if (hot.ok && sources.ok) {
      document.getElementById("updated").textContent = "更新于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
    }
  }

  poll(refresh, pollMs);
})();
