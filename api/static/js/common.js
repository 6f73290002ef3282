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
    if (resp.status === 401 && !leaving) {
      expired();
      window.location.assign(loginUrl());
    }
    return { ok: resp.ok, status: resp.status, data };
  }

  function loginUrl() { return "/login?next=" + encodeURIComponent(location.pathname); }

  /* A session that ran out: one notice at the top of the page with a link to log in again
     (the redirect above may be held back by a leave-page prompt, and the user stays). */
  function expired() {
    if (document.getElementById("session-expired")) return;
    const main = document.getElementById("main") || document.body;
    const note = el("p", { class: "error session-expired", id: "session-expired", role: "alert" },
      "登录已过期，请", el("a", { href: loginUrl(), text: "重新登录" }));
    main.prepend(note);
  }

  /* Request fields by their last path segment (body.url, query.since), as users know them. */
  const FIELD_NAMES = {
    url: "链接", title: "标题", body: "正文", reason: "原因", assignee: "承办人",
    department: "承办部门", name: "名称", username: "用户名", display_name: "显示名",
    password: "密码", role: "角色", minutes: "时长", value: "对象", kind: "类型",
    incident_id: "事件", q: "关键词", since: "起始日期", until: "截止日期", source: "来源",
    region: "区域", page: "页码", per_page: "每页条数", on: "日期", scopes: "权限范围",
  };
  const URL_FIELDS = new Set(["url"]);

  /* The problems of an error answer as one Chinese line: a known field by its Chinese
     name, an unknown or internal one (version, authorization, path) left out, and the
     English gloss the API appends for logs ("(stale version 4, stored 5)") dropped. */
  function problems(data) {
    if (!data || !Array.isArray(data.detail) || !data.detail.length) return "请求失败";
    if (data.detail.some((d) => d.field === "authorization")) return "登录已过期，请重新登录";
    return data.detail.map((d) => {
      const key = String(d.field || "").split(".").pop();
      let text = String(d.problem || "").replace(/\s*\([\x20-\x7e]*\)\s*$/, "");
      if (URL_FIELDS.has(key) && /应匹配/.test(text)) text = "应为以 http:// 或 https:// 开头的网址";
      const name = FIELD_NAMES[key];
      return name ? name + "：" + text : text;
    }).join("；");
  }

  /* Run fn with the buttons disabled, so a double click sends one request (the second
     click lands on a disabled button and is dropped). */
  async function busy(buttons, fn) {
    const list = (Array.isArray(buttons) ? buttons : [buttons]).filter(Boolean);
    const before = list.map((b) => b.disabled);
    list.forEach((b) => { b.disabled = true; b.setAttribute("aria-busy", "true"); });
    try {
      return await fn();
    } finally {
      list.forEach((b, i) => { b.disabled = before[i]; b.removeAttribute("aria-busy"); });
    }
  }

  /* Ⅰ级…Ⅳ级, as the tier is written everywhere in the dashboard. */
  const TIER_NAMES = { I: "Ⅰ级", II: "Ⅱ级", III: "Ⅲ级", IV: "Ⅳ级" };
  function tierName(t) { return TIER_NAMES[t] || t || "—"; }

  /* A span of time in words: "41 分 08 秒", "3 小时 25 分", "1 天 19 小时" (never "41:08",
     which reads as hours on a phone). */
  function duration(ms) {
    const total = Math.floor(Math.abs(ms) / 1000);
    const d = Math.floor(total / 86400), h = Math.floor((total % 86400) / 3600);
    const m = Math.floor((total % 3600) / 60), s = total % 60;
    const pad = (x) => String(x).padStart(2, "0");
    if (d) return `${d} 天 ${h} 小时`;
    if (h) return `${h} 小时 ${pad(m)} 分`;
    return `${m} 分 ${pad(s)} 秒`;
  }

  /* Chinese messages for the browser's own form checks (Chromium words them in the
     browser's language: "Please fill out this field."). */
  function validationMessage(field) {
    const v = field.validity;
    if (v.valueMissing) return field.tagName === "SELECT" ? "请选择一项" : "请填写此项";
    if (v.typeMismatch && field.type === "url") return "请输入以 http:// 或 https:// 开头的网址";
    if (v.typeMismatch && field.type === "email") return "请输入有效的电子邮件地址";
    if (v.typeMismatch) return "格式不正确";
    if (v.patternMismatch) return field.title || "格式不正确";
    if (v.tooLong) return `最多 ${field.maxLength} 个字`;
    if (v.tooShort) return `至少 ${field.minLength} 个字`;
    if (v.rangeUnderflow) return `不能小于 ${field.min}`;
    if (v.rangeOverflow) return `不能大于 ${field.max}`;
    if (v.stepMismatch) return "请输入有效的数值";
    if (v.badInput) return field.type === "date" ? "请输入有效的日期" : "请输入有效的数值";
    return "";
  }
  function checkField(field) {
    if (!field || typeof field.setCustomValidity !== "function" || !field.willValidate) return;
    field.setCustomValidity("");
    if (!field.checkValidity || field.validity.valid) return;
    field.setCustomValidity(validationMessage(field));
  }
  // "invalid" does not bubble: listen in the capture phase, for forms drawn later too.
  document.addEventListener("invalid", (ev) => {
    const field = ev.target;
    if (!field || typeof field.setCustomValidity !== "function") return;
    field.setCustomValidity("");
    if (!field.validity.valid) field.setCustomValidity(validationMessage(field));
  }, true);
  document.addEventListener("input", (ev) => checkField(ev.target), true);
  document.addEventListener("change", (ev) => checkField(ev.target), true);

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

  /* A request outside the polls (a page's first load) that logging out must wait for too. */
  function track(promise) {
    const run = promise.catch(() => {});
    inFlight.add(run);
    run.finally(() => inFlight.delete(run));
    return promise;
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
  return {
    api, problems, el, localTime, poll, pollMs, sparkline, pageData, csrf, busy, tierName,
    duration, expired, track,
  };
})();
