/* Admin page: users, API tokens, alert silences, the tier policy in force and the audit
   log, through the JSON API. */
"use strict";
(function () {
  const { api, el, localTime, problems } = window.TF;
  const status = () => document.getElementById("admin-status");
  const roleLabel = { monitor: "监测员", officer: "宣传/发言人", analyst: "分析员", admin: "管理员" };
  const actionLabel = {
    "user.create": "新建用户", "user.update": "修改用户", "session.login": "登录",
    "session.logout": "退出", "token.create": "新建令牌", "token.revoke": "吊销令牌",
    "post.read_raw": "查看原始帖子", "alert.acknowledge": "确认预警", "alert.assign": "交办预警",
    "alert.respond": "登记回应", "alert.close": "关闭预警", "silence.create": "新建静默",
    "silence.remove": "解除静默",
  };
  const targetLabel = { incident: "事件", keyword: "关键词", source: "来源" };
  const conditionLabel = {
    heat_min: "热度 ≥", posts_per_hour_min: "每小时帖数 ≥", burst: "爆发", hot: "热点",
    virality_min: "扩散度 ≥", rumor_min: "谣言可能 ≥", min_posts: "帖数 ≥", categories: "类别",
    districts: "区域", direct_appeal: "直接诉求", min_authors: "作者数 ≥", keywords: "提及",
    any_of: "且满足其一",
  };
  let auditPage = 1;

  function say(text, bad) {
    const s = status();
    s.textContent = text;
    s.className = "status" + (bad ? " error" : "");
  }

  function roleSelect(value, label) {
    const sel = el("select", { "aria-label": label });
    sel.innerHTML = document.getElementById("role-options").innerHTML;
    sel.value = value;
    return sel;
  }

  async function loadUsers() {
    const r = await api("GET", "/api/v1/users");
    if (!r.ok) { say(problems(r.data), true); return; }
    const body = document.querySelector("#users tbody");
    body.replaceChildren(...r.data.data.map((u) => {
      const sel = roleSelect(u.role, u.name + " 的角色");
      const dis = el("input", { type: "checkbox", "aria-label": "停用 " + u.name });
      dis.checked = u.disabled;
      const save = el("button", { type: "button", text: "保存" });
      save.addEventListener("click", async () => {
        const res = await api("PATCH", "/api/v1/users/" + encodeURIComponent(u.name),
          { version: u.version, role: sel.value, disabled: dis.checked });
        if (res.ok) say("已保存用户 " + u.name);
        else if (res.status === 409) say("用户 " + u.name + " 已被他人修改，已载入最新版本，请重新操作", true);
        else say(problems(res.data), true);
        await Promise.all([loadUsers(), loadAudit()]);
      });
      return el("tr", {}, el("td", { text: u.name }), el("td", { text: u.display_name || "—" }),
        el("td", {}, sel), el("td", {}, dis), el("td", {}, save));
    }));
  }

  async function loadTokens() {
    const r = await api("GET", "/api/v1/tokens");
    if (!r.ok) return;
    const body = document.querySelector("#tokens tbody");
    if (!r.data.data.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "empty", text: "暂无令牌。" })));
      return;
    }
    body.replaceChildren(...r.data.data.map((t) => {
      const cell = el("td", {});
      if (!t.revoked) {
        const b = el("button", { type: "button", text: "吊销" });
        b.addEventListener("click", async () => {
          const res = await api("DELETE", "/api/v1/tokens/" + encodeURIComponent(t.id));
          say(res.ok ? "已吊销令牌 " + t.name : problems(res.data), !res.ok);
          await Promise.all([loadTokens(), loadAudit()]);
        });
        cell.append(b);
      }
      return el("tr", {}, el("td", { text: t.name }), el("td", { text: roleLabel[t.role] || t.role }),
        el("td", { text: t.created_by }), el("td", { text: t.expires_at ? localTime(t.expires_at) : "长期" }),
        el("td", { text: t.revoked ? "已吊销" : "有效" }), cell);
    }));
  }

  function change(e) {
    if (!e.before && !e.after) return "";
    const before = e.before || {}, after = e.after || {};
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => !["updated_at", "version", "created_at"].includes(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    return keys.map((k) => `${k}: ${before[k] === undefined ? "∅" : JSON.stringify(before[k])} → ${after[k] === undefined ? "∅" : JSON.stringify(after[k])}`).join("；");
  }

  async function loadAudit() {
    const r = await api("GET", "/api/v1/audit?per_page=20&page=" + auditPage);
    if (!r.ok) return;
    const body = document.querySelector("#audit tbody");
    body.replaceChildren(...r.data.data.map((e) => el("tr", {},
      el("td", { text: localTime(e.at) }), el("td", { text: e.actor }), el("td", { text: actionLabel[e.action] || e.action, title: e.action }),
      el("td", { text: [e.target_kind, e.target_id].filter(Boolean).join(" ") || "—" }),
      el("td", { class: "change", text: change(e) || "—" }))));
    document.getElementById("audit-page").textContent = "第 " + auditPage + " 页";
    document.getElementById("audit-prev").disabled = auditPage <= 1;
    document.getElementById("audit-next").disabled = r.data.data.length < 20;
  }

  async function loadSilences() {
    const r = await api("GET", "/api/v1/silences");
    if (!r.ok) { say(problems(r.data), true); return; }
    const body = document.querySelector("#silences tbody");
    if (!r.data.data.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "empty", text: "当前没有生效的静默。" })));
      return;
    }
    body.replaceChildren(...r.data.data.map((s) => {
      const b = el("button", { type: "button", text: "解除", "aria-label": "解除静默：" + s.value });
      b.addEventListener("click", async () => {
        const res = await api("DELETE", "/api/v1/silences/" + encodeURIComponent(s.id));
        say(res.ok ? "已解除静默 " + s.value : problems(res.data), !res.ok);
        await Promise.all([loadSilences(), loadAudit()]);
      });
      return el("tr", { "data-id": s.id }, el("td", { text: targetLabel[s.target] || s.target }),
        el("td", { text: s.value }), el("td", { text: s.reason }), el("td", { text: s.created_by }),
        el("td", { text: localTime(s.starts_at) }), el("td", { text: localTime(s.ends_at) }), el("td", {}, b));
    }));
  }

  function hours(h) { return h >= 1 ? h + " 小时" : Math.round(h * 60) + " 分钟"; }

  function condition(when) {
    return Object.entries(when).map(([k, v]) => {
      const label = conditionLabel[k] || k;
      if (k === "any_of") return label + "（" + v.map(condition).join(" 或 ") + "）";
      if (Array.isArray(v)) return label + "：" + v.join("、");
      if (typeof v === "boolean") return (v ? "" : "非") + label;
      return label + " " + v;
    }).join("；") || "—";
  }

  async function loadPolicy() {
    const r = await api("GET", "/api/v1/alerts/policy");
    if (!r.ok) { say(problems(r.data), true); return; }
    const p = r.data;
    document.getElementById("policy-source").textContent =
      "来源：" + p.source + "；第 " + p.version + " 版；少于 " + p.min_posts + " 帖的事件不预警；默认责任单位：" + p.default_department;
    document.querySelector("#policy tbody").replaceChildren(...p.tiers.map((t) => el("tr", { "data-tier": t.tier },
      el("th", { scope: "row" }, el("span", { class: "tier-badge tier-" + t.colour, text: t.tier_name })),
      el("td", { text: t.label }), el("td", { text: t.colour_name }),
      el("td", { text: t.deadlines.map((d) => d.label + " " + hours(d.hours)).join("；") || "无需回应" }),
      el("td", { text: t.channels.join("、") || "不通知" }))));
    document.querySelector("#policy-rules tbody").replaceChildren(...p.rules.map((x) => el("tr", {},
      el("td", { text: x.name, title: x.description }), el("td", { "data-tier": x.tier, text: window.TF.tierName(x.tier) }),
      el("td", { text: condition(x.when) }),
      el("td", { text: x.tracks.map((d) => d.label + " " + hours(d.hours)).join("；") || "—" }))));
  }

  function formData(form) {
    const out = {};
    for (const [k, v] of new FormData(form).entries()) if (v !== "") out[k] = v;
    return out;
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("user-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const res = await api("POST", "/api/v1/users", formData(ev.target));
      if (res.ok) { say("已创建用户 " + res.data.name); ev.target.reset(); }
      else say(problems(res.data), true);
      await Promise.all([loadUsers(), loadAudit()]);
    });
    document.getElementById("token-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = formData(ev.target);
      if (body.expires_days) body.expires_days = Number(body.expires_days);
      const res = await api("POST", "/api/v1/tokens", body);
      if (res.ok) {
        const box = document.getElementById("new-token");
        box.querySelector("code").textContent = res.data.token;
        box.hidden = false;
        say("已创建令牌 " + res.data.name);
        ev.target.reset();
      } else say(problems(res.data), true);
      await Promise.all([loadTokens(), loadAudit()]);
    });
    document.getElementById("silence-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = formData(ev.target);
      body.minutes = Number(body.minutes);
      const res = await api("POST", "/api/v1/silences", body);
      if (res.ok) { say("已静默 " + res.data.value + "，至 " + localTime(res.data.ends_at)); ev.target.reset(); }
      else say(problems(res.data), true);
      await Promise.all([loadSilences(), loadAudit()]);
    });
    document.getElementById("audit-prev").addEventListener("click", () => { auditPage = Math.max(1, auditPage - 1); loadAudit(); });
    document.getElementById("audit-next").addEventListener("click", () => { auditPage += 1; loadAudit(); });
    loadUsers(); loadTokens(); loadAudit(); loadSilences(); loadPolicy();
  });
})();
