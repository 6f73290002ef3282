/* Admin page: users, API tokens and the audit log, through the JSON API. */
"use strict";
(function () {
  const { api, el, localTime, problems } = window.TF;
  const status = () => document.getElementById("admin-status");
  const roleLabel = { monitor: "监测员", officer: "宣传/发言人", analyst: "分析员", admin: "管理员" };
  const actionLabel = {
    "user.create": "新建用户", "user.update": "修改用户", "session.login": "登录",
    "session.logout": "退出", "token.create": "新建令牌", "token.revoke": "吊销令牌",
    "post.read_raw": "查看原始帖子",
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
    document.getElementById("audit-prev").addEventListener("click", () => { auditPage = Math.max(1, auditPage - 1); loadAudit(); });
    document.getElementById("audit-next").addEventListener("click", () => { auditPage += 1; loadAudit(); });
    loadUsers(); loadTokens(); loadAudit();
  });
})();
