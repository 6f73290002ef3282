/* 事件 page: the filter form always shows the filters of its URL. Going back, the browser
   restores what was typed before leaving (form-state restoration, or the whole page from
   the back-forward cache), which would show filters that the list below does not apply. */
"use strict";
window.addEventListener("pageshow", () => {
  const form = document.querySelector("form.incident-filters");
  if (form) form.reset();
});
