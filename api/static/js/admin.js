/* Admin page: users, API tokens, alert silences, the tier policy in force and the audit
   log, through the JSON API. */
"use strict";
(function () {
  const { api, el, localTime, problems } = window.TF;
  const status = () => document.getElementById("admin-status");
  const roleLabel = { monitor: "监测员", officer: "宣传/发言人", analyst: "分析员", admin: "管理员" };
  const actionLabel = {
    "user.create": "新建用户", "user.update": "修改用户", "session.login": "登录",
    "session.logout": "退出", "session.login_failed": "登录失败", "session.login_locked": "登录锁定",
    "token.create": "新建令牌", "token.revoke": "吊销令牌",
    "post.read_raw": "查看原始帖子", "alert.acknowledge": "确认预警", "alert.assign": "交办预警",
    "alert.respond": "登记回应", "alert.close": "关闭预警", "silence.create": "新建静默",
    "silence.remove": "解除静默", "bulletin.draft": "起草通报", "bulletin.edit": "修改通报",
    "bulletin.submit": "提交审核", "bulletin.approve": "审核通过", "bulletin.publish": "发布通报",
    "bulletin.refresh": "按最新情况重新生成通报",
  };
  /* The audit log in words: record kinds, fields and coded values as users know them. */
  const kindLabel = {
    user: "用户", token: "令牌", alert: "预警", bulletin: "通报", silence: "静默", incident: "事件",
    session: "会话",
  };
  const fieldLabel = {
    name: "名称", display_name: "姓名", role: "角色", disabled: "停用", expires_at: "到期",
    revoked: "吊销", revoked_at: "吊销时间", status: "状态", assignee: "承办人",
    assigned_department: "承办部门", acknowledged_by: "确认人", acknowledged_at: "确认时间",
    response_url: "回应链接", responded_at: "回应时间", closed_at: "关闭时间",
    close_reason: "关闭原因", tier: "级别", deadlines: "回应时限", title: "标题", body: "正文",
    submitted_by: "提交人", approved_by: "审核人", approved_at: "审核时间",
    published_at: "发布时间", published_url: "发布链接", issuer: "发文单位", issued_on: "成文日期",
    drafted_by: "起草人", target: "对象", value: "值", reason: "原因", starts_at: "开始",
    ends_at: "结束", removed_at: "解除时间", removed_by: "解除人", post_id: "帖子",
    incident_id: "事件", department: "部门", recovered_at: "平息时间", rule: "规则",
  };
  const valueLabel = {
    status: {
      new: "新建", notified: "已通知", acknowledged: "已确认", assigned: "已交办", responded: "已回应",
      closed: "已关闭", draft: "草稿", submitted: "待审核", approved: "已审核", published: "已发布",
    },
    tier: { I: "Ⅰ级", II: "Ⅱ级", III: "Ⅲ级", IV: "Ⅳ级" },
    target: { incident: "事件", keyword: "关键词", source: "来源" },
  };
  const ignored = new Set(["updated_at", "version", "created_at", "facts", "figures", "departments", "history", "id"]);
  const isTime = (v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v);

  function shown(key, v) {
    if (v === null || v === undefined || v === "") return "空";
    if (typeof v === "boolean") return v ? "是" : "否";
    if (key === "role") return roleLabel[v] || v;
    if (valueLabel[key] && valueLabel[key][v]) return valueLabel[key][v];
    if (isTime(v)) return localTime(v);
    if (key === "deadlines" && Array.isArray(v)) {
      return v.map((d) => (d.label || d.name) + (d.met_at ? "（已完成）" : "")).join("、") || "空";
    }
    if (typeof v === "string") return v.length > 40 ? "“" + v.slice(0, 40) + "…”" : "“" + v + "”";
    if (typeof v === "object") return JSON.stringify(v).slice(0, 60);
    return String(v);
  }

  /* One readable line of what changed: 状态：待审核 → 已审核；审核人：空 → “zhaoqing”. A long
     text (a bulletin's body) says only that it changed and its length. */
  function summary(e) {
    const before = e.before || {}, after = e.after || {};
    if (!e.before && !e.after) return e.ip ? "来自 " + e.ip : "";
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => !ignored.has(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    if (!e.before) {
      const parts = keys.filter((k) => fieldLabel[k] && after[k] !== null && after[k] !== "" && k !== "body")
        .map((k) => fieldLabel[k] + "：" + shown(k, after[k]));
      return parts.join("；");
    }
    return keys.filter((k) => fieldLabel[k]).map((k) => {
      if (k === "body") return "正文已修改（" + String(after.body || "").length + " 字）";
      return fieldLabel[k] + "：" + shown(k, before[k]) + " → " + shown(k, after[k]);
    }).join("；");
  }

  function changeCell(e) {
    const cell = el("td", { class: "change" }, el("span", { text: summary(e) || "—" }));
    if (e.before || e.after) {
      const raw = el("details", { class: "raw" }, el("summary", { text: "原始数据" }),
        el("pre", { text: JSON.stringify({ before: e.before, after: e.after }, null, 2) }));
      cell.append(raw);
    }
    return cell;
  }

  function targetText(e) {
    if (!e.target_kind && !e.target_id) return "—";
    return [kindLabel[e.target_kind] || e.target_kind, e.target_id].filter(Boolean).join(" ");
  }
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

  async function loadAudit() {
    const r = await api("GET", "/api/v1/audit?per_page=20&page=" + auditPage);
    if (!r.ok) return;
    const body = document.querySelector("#audit tbody");
    body.replaceChildren(...r.data.data.map((e) => el("tr", {},
      el("td", { text: localTime(e.at) }), el("td", { text: e.actor }), el("td", { text: actionLabel[e.action] || e.action, title: e.action }),
      el("td", { text: targetText(e) }), changeCell(e))));
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
