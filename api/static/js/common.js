/* Shared helpers: JSON calls with the CSRF header, polling, small DOM builders. */
"use strict";
window.TF = (function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";

  async function api(method, url, body) {
    const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(url, opts);
    let data = null;
    if (resp.status !== 204) {
      try { data = await resp.json(); } catch (e) { data = null; }
    }
    if (resp.status === 401 && !leaving) { window.location.assign("/login?next=" + encodeURIComponent(location.pathname)); }
    return { ok: resp.ok, status: resp.status, data };
  }

  function problems(data) {
    if (!data || !Array.isArray(data.detail)) return "请求失败";
    return data.detail.map((d) => d.field + "：" + d.problem).join("；");
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) node.append(c);
    return node;
  }

  function localTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    const fmt = new Intl.DateTimeFormat("zh-CN", {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hour12: false,
    });
    const p = Object.fromEntries(fmt.formatToParts(d).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  }

  /* Poll fn every ms; skips while the tab is hidden, never overlaps itself, and stops for
     good once the user logs out (see below). */
  let leaving = false;
  const inFlight = new Set();
  function poll(fn, ms) {
    let busy = false;
    async function tick() {
      if (busy || leaving || document.hidden) return;
      busy = true;
      const run = (async () => { try { await fn(); } catch (e) { /* next tick retries */ } })();
      inFlight.add(run);
      try { await run; } finally { busy = false; inFlight.delete(run); }
    }
    setInterval(tick, ms);
    document.addEventListener("visibilitychange", tick);
  }

  /* Logging out while a poll is on the wire let that request reach the server after the
     session was gone: a 401, whose handler then raced the logout's own redirect. Stop the
     polls, let the last one land, then send the form. */
  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("who") || leaving) return;
    ev.preventDefault();
    leaving = true;
    Promise.allSettled([...inFlight]).then(() => form.submit());
  });

  /* A tiny SVG sparkline (no chart library needed on the 监测台). */
  function sparkline(node) {
    const values = (node.dataset.values || "").split(",").map(Number).filter((v) => !isNaN(v));
    node.textContent = "";
    if (!values.length) return;
    const w = 72, h = 20, max = Math.max(...values, 0.001);
    const step = values.length > 1 ? w / (values.length - 1) : w;
    const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`);
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", w); svg.setAttribute("height", h);
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.setAttribute("aria-hidden", "true");
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", pts.join(" "));
    line.setAttribute("class", "spark-line");
    svg.append(line);
    node.append(svg);
  }

  function pageData() {
    const node = document.getElementById("page-data");
    return node ? JSON.parse(node.textContent) : {};
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".spark").forEach(sparkline);
  });

  const pollMs = Number(document.body.dataset.pollMs || 15000);
  return { api, problems, el, localTime, poll, pollMs, sparkline, pageData, csrf };
})();
