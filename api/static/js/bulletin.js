/* Bulletin editor: live preview with [待核实] gaps highlighted, save with the version read
   (a 409 shows the stored text), submit / approve / publish, .docx and Weibo text.
   Unsaved edits are kept in localStorage (per user, bulletin and version read) as they are
   typed, so a session that expires mid-edit loses nothing: after logging in again the page
   offers to restore them. */
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const TF = window.TF;
  const root = document.getElementById("editor");
  if (!root) return;
  const id = root.dataset.id;
  const url = "/api/v1/bulletins/" + encodeURIComponent(id);
  let current = TF.pageData().bulletin;
  let conflictRecord = null;
  const $ = (x) => document.getElementById(x);
  const title = $("f-title"), body = $("f-body"), msg = $("b-msg");
  const GAP = /\[待核实[^\]]*\]/g;
  const STEP_LABELS = {
    edit: "修改", submit: "提交审核", approve: "审核", publish: "发布", refresh: "按最新情况重新生成",
  };

  function say(text, bad) {
    msg.textContent = text;
    msg.classList.toggle("error", !!bad);
  }

  /* Text with every [待核实…] gap wrapped in <mark class="gap">. */
  function marked(node, text) {
    node.textContent = "";
    let last = 0;
    for (const m of text.matchAll(GAP)) {
      node.append(text.slice(last, m.index));
      node.append(TF.el("mark", { class: "gap", text: m[0] }));
      last = m.index + m[0].length;
    }
    node.append(text.slice(last));
  }

  function paragraphs(node, text) {
    node.textContent = "";
    for (const para of text.split(/\n\s*\n/)) {
      if (!para.trim()) continue;
      const p = TF.el("p");
      marked(p, para.trim());
      node.append(p);
    }
  }

  function preview() {
    marked($("pv-title"), title.value);
    paragraphs($("pv-body"), body.value);
    const gaps = (title.value + "\n" + body.value).match(GAP) || [];
    $("gap-count").textContent = String(gaps.length);
    const list = $("gap-list");
    list.textContent = "";
    for (const g of gaps) {
      const b = TF.el("button", { type: "button", class: "link gap-jump", "data-gap": g, text: g });
      list.append(TF.el("li", {}, b));
    }
    const dirty = current && (title.value !== current.title || body.value !== current.body);
    $("dirty").hidden = !dirty;
    $("discard").hidden = !dirty;
  }

  /* The unsaved text, kept locally: key tf-draft:<user>:<bulletin>:<version read>. */
  const user = root.dataset.user || "";
  const prefix = `tf-draft:${user}:${id}:`;
  const storage = (() => { try { return window.localStorage; } catch (e) { return null; } })();
  const isDirty = () => current && (title.value !== current.title || body.value !== current.body);
  function stashKeys() {
    if (!storage) return [];
    const keys = [];
    for (let i = 0; i < storage.length; i++) {
      const k = storage.key(i);
      if (k && k.startsWith(prefix)) keys.push(k);
    }
    return keys;
  }
  function clearStash() { for (const k of stashKeys()) storage.removeItem(k); }
  function stash() {
    if (!storage || !current || title.readOnly) return;
    if (!isDirty()) { clearStash(); return; }
    const record = { version: current.version, title: title.value, body: body.value, at: new Date().toISOString() };
    try {
      for (const k of stashKeys()) if (k !== prefix + current.version) storage.removeItem(k);
      storage.setItem(prefix + current.version, JSON.stringify(record));
    } catch (e) { /* storage full or refused: the leave-page prompt still warns */ }
  }
  function stashed() {
    let best = null;
    for (const k of stashKeys()) {
      try {
        const r = JSON.parse(storage.getItem(k));
        if (r && typeof r.body === "string" && (!best || r.at > best.at)) best = r;
      } catch (e) { storage.removeItem(k); }
    }
    return best;
  }
  function offerRestore() {
    const saved = stashed();
    if (!saved || !current.actions.includes("edit")) return;
    if (saved.title === current.title && saved.body === current.body) { clearStash(); return; }
    let text = `你在 ${TF.localTime(saved.at)} 对第 ${saved.version} 版所做的修改尚未保存（可能因登录过期而中断）。`;
    if (saved.version !== current.version) {
      text += `通报现已是第 ${current.version} 版（其间有人修改过），恢复后请对照当前版本核对再保存。`;
    }
    $("restore-text").textContent = text;
    const box = $("restore");
    box.hidden = false;
    $("restore-load").onclick = () => {
      title.value = saved.title;
      body.value = saved.body;
      box.hidden = true;
      preview();
      stash();
      say("已恢复未保存的修改，请核对后点击“保存修改”");
      body.focus();
    };
    $("restore-drop").onclick = () => {
      clearStash();
      box.hidden = true;
      say("已放弃未保存的修改");
    };
  }

  function render(b) {
    current = b;
    $("b-version").textContent = String(b.version);
    const st = $("b-status");
    st.textContent = b.status_label;
    st.dataset.status = b.status;
    $("b-approver").textContent = b.approved_by || "—";
    const editable = b.actions.includes("edit");
    $("save").hidden = !editable;
    title.readOnly = body.readOnly = !editable;
    $("act-submit").hidden = !b.actions.includes("submit");
    $("act-approve").hidden = !b.actions.includes("approve");
    $("publish-form").hidden = !b.actions.includes("publish");
    $("act-refresh").hidden = !b.actions.includes("refresh");
    $("refresh-version").textContent = String(b.version);
    if (!b.actions.includes("refresh")) $("refresh-confirm").hidden = true;
    const withheld = $("withheld");
    withheld.textContent = "";
    for (const [action, why] of Object.entries(b.withheld || {})) {
      withheld.append(TF.el("li", { "data-action": action, text: `${STEP_LABELS[action] || action}：${why}` }));
    }
    const history = $("history");
    history.textContent = "";
    for (const h of b.history || []) {
      history.append(TF.el("li", { text: `${TF.localTime(h.at)} ${h.by} ${h.action_label}` }));
    }
    loadWeibo();
    preview();
  }

  function showConflict(data) {
    conflictRecord = data.current;
    const box = $("conflict");
    const problem = (data.detail && data.detail[0] && data.detail[0].problem) || "";
    $("conflict-text").textContent = problem.split(" (")[0];
    if (conflictRecord) {
      marked($("conflict-current-title"), conflictRecord.title);
      paragraphs($("conflict-current-body"), conflictRecord.body);
    }
    box.hidden = false;
    box.focus();
  }

  async function handle(resp, done) {
    if (resp.ok) {
      $("conflict").hidden = true;
      render(resp.data);
      stash();
      say(done);
      return true;
    }
    if (resp.status === 409 && resp.data && resp.data.detail && resp.data.detail[0].field === "version") {
      say("未完成：通报已被他人修改（版本冲突），见上方说明", true);
      showConflict(resp.data);
      return false;
    }
    if (resp.status === 409 && resp.data && resp.data.current) render(resp.data.current);
    say(TF.problems(resp.data), true);
    return false;
  }

  /* One step at a time: while a save or step is on the wire every step button is
     disabled, so a double click sends one request (the second used to meet a 409 and
     show a version conflict for the user's own change). */
  let sending = false;
  async function step(fn) {
    if (sending) return;
    sending = true;
    const buttons = [$("save"), $("act-submit"), $("act-approve"), $("act-publish"), $("act-refresh"), $("refresh-go")];
    try {
      await TF.busy(buttons, fn);
    } finally {
      sending = false;
    }
  }

  $("edit-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    step(async () => {
      const resp = await TF.api("PATCH", url, { version: current.version, title: title.value, body: body.value });
      await handle(resp, `已保存（第 ${resp.data && resp.data.version} 版）`);
    });
  });
  for (const btn of [$("act-submit"), $("act-approve")]) {
    btn.addEventListener("click", () => {
      const action = btn.dataset.action;
      if (current && (title.value !== current.title || body.value !== current.body)) {
        say("请先保存修改，再" + STEP_LABELS[action], true);
        return;
      }
      step(async () => {
        const resp = await TF.api("POST", `${url}/${action}`, { version: current.version });
        await handle(resp, action === "submit" ? "已提交审核，请另一位同事审核" : "已审核通过");
      });
    });
  }
  /* 按最新情况重新生成: redraft from the incident as it is now. The current text is
     replaced (the server keeps it in the history entry), so it asks first, and refuses
     while there are unsaved edits: those would be lost, not kept. */
  $("act-refresh").addEventListener("click", () => {
    if (isDirty()) {
      $("refresh-confirm").hidden = true;
      say("有未保存的修改：请先保存修改或放弃未保存的修改，再按最新情况重新生成", true);
      return;
    }
    $("refresh-confirm").hidden = false;
    $("refresh-go").focus();
  });
  $("refresh-cancel").addEventListener("click", () => {
    $("refresh-confirm").hidden = true;
    say("已取消重新生成");
    $("act-refresh").focus();
  });
  $("refresh-go").addEventListener("click", () => {
    if (isDirty()) {
      $("refresh-confirm").hidden = true;
      say("有未保存的修改：请先保存修改或放弃未保存的修改，再按最新情况重新生成", true);
      return;
    }
    step(async () => {
      const before = current.version;
      const resp = await TF.api("POST", `${url}/refresh`, { version: before });
      $("refresh-confirm").hidden = true;
      if (resp.ok) {
        title.value = resp.data.title;
        body.value = resp.data.body;
      }
      const same = resp.ok && resp.data.version === before;
      await handle(resp, same ? "事件没有新情况，草稿未变" : `已按最新情况重新生成（第 ${resp.data && resp.data.version} 版），原文已保留在处理记录中`);
    });
  });
  $("discard").addEventListener("click", () => {
    if (!current) return;
    title.value = current.title;
    body.value = current.body;
    clearStash();
    preview();
    say("已放弃未保存的修改");
  });
  $("publish-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    step(async () => {
      const link = $("f-url").value.trim();
      const resp = await TF.api("POST", `${url}/publish`, { version: current.version, url: link || null });
      await handle(resp, "已标记为发布");
    });
  });
  $("conflict-load").addEventListener("click", () => {
    if (!conflictRecord) return;
    title.value = conflictRecord.title;
    body.value = conflictRecord.body;
    render(conflictRecord);
    stash();
    $("conflict").hidden = true;
    say(`已载入第 ${conflictRecord.version} 版`);
    body.focus();
  });
  $("conflict-keep").addEventListener("click", () => {
    if (!conflictRecord) return;
    const mine = { title: title.value, body: body.value };
    render(conflictRecord);
    title.value = mine.title;
    body.value = mine.body;
    preview();
    stash();
    $("conflict").hidden = true;
    say(`你的修改将基于第 ${conflictRecord.version} 版保存，请确认后点击“保存修改”`);
    $("save").focus();
  });

  $("gap-list").addEventListener("click", (ev) => {
    const gap = ev.target.closest && ev.target.closest(".gap-jump");
    if (!gap) return;
    const text = gap.dataset.gap;
    const inTitle = title.value.indexOf(text);
    const field = inTitle >= 0 ? title : body;
    const at = field.value.indexOf(text);
    if (at < 0) return;
    field.focus();
    field.setSelectionRange(at, at + text.length);
  });

  async function loadWeibo() {
    const resp = await TF.api("GET", `${url}/weibo`);
    const box = $("weibo-text");
    if (resp.ok) {
      box.value = resp.data.text;
      $("weibo-len").textContent = String(resp.data.length);
    } else {
      box.value = TF.problems(resp.data);
      $("weibo-len").textContent = "—";
    }
  }
  $("copy-weibo").addEventListener("click", async () => {
    await loadWeibo();
    const box = $("weibo-text");
    let copied = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(box.value);
        copied = true;
      }
    } catch (e) { copied = false; }
    if (!copied) {
      box.focus();
      box.select();
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    }
    say(copied ? "微博文本已复制" : "请按 Ctrl+C 复制已选中的微博文本");
  });

  title.addEventListener("input", () => { preview(); stash(); });
  body.addEventListener("input", () => { preview(); stash(); });
  window.addEventListener("beforeunload", (ev) => {
    stash();
    if (isDirty()) {
      ev.preventDefault();
      ev.returnValue = "";
    }
  });
  render(current);
  offerRestore();
});
