// Compare page keyboard: 1/2 left/right, t tie, b both bad, e escalate, z/x/c strength, Enter submit, s skip,
// u undo, g guidelines, / critique, ? shortcuts. Keys are ignored while typing (Esc leaves the box,
// Ctrl+Enter submits from it). htmx swaps #compare after each submit, so handlers live on the document.
(() => {
  "use strict";
  const CHOICES = { 1: "left", 2: "right", t: "tie", b: "both_bad", e: "escalate" };
  const STRENGTHS = { z: "slight", x: "clear", c: "strong" };
  let shownAt = performance.now();

  const judgeForm = () => document.getElementById("judge-form");
  const dialog = () => document.getElementById("shortcuts");
  const isTyping = (el) => el instanceof Element && el.matches("textarea, select, input:not([type=radio]):not([type=checkbox]), [contenteditable]");

  function pick(name, value) {
    const input = judgeForm()?.querySelector(`input[name="${name}"][value="${value}"]`);
    if (!input) return null;
    input.checked = true;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return input;
  }

  // A fast reviewer can press a key between htmx's swap and its processing of the new form; processing is
  // idempotent, so do it first, or the browser would post the form itself and reload the page.
  function ready(el) {
    if (window.htmx) window.htmx.process(el);
    return el;
  }

  function submit() {
    const form = judgeForm();
    const button = form?.querySelector("[data-submit]");
    if (button && !button.disabled) ready(form).requestSubmit(button);
  }

  function click(selector) {
    const el = document.querySelector(selector);
    if (!el || el.disabled) return;
    ready(el.form || el);  // the form carries hx-post for the undo button, and holds the skip button's own
    el.click();
  }

  function toggleShortcuts() {
    const box = dialog();
    if (!box) return;
    if (box.open) box.close(); else box.showModal();
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.isComposing) return;
    if (isTyping(event.target)) {
      if (event.key === "Escape") event.target.blur();
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.form === judgeForm()) {
        event.preventDefault();
        submit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    if (event.key === "?") { event.preventDefault(); toggleShortcuts(); return; }
    if (dialog()?.open) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === "Enter") {
      if (event.target instanceof Element && event.target.closest("button, a, summary")) return;  // their own Enter
      event.preventDefault();
      submit();
    } else if (key in CHOICES) {
      event.preventDefault();
      pick("choice", CHOICES[key]);
      const critique = judgeForm()?.querySelector("textarea[name=critique]");
      if ((key === "b" || key === "e") && critique && !critique.value.trim()) critique.focus();
    } else if (key in STRENGTHS) {
      event.preventDefault();
      pick("strength", STRENGTHS[key]);
    } else if (key === "s") {
      event.preventDefault();
      click("[data-skip]");
    } else if (key === "u") {
      event.preventDefault();
      click("[data-undo]");
    } else if (key === "g") {
      const details = document.querySelector("[data-guidelines]");
      if (details) details.open = !details.open;
    } else if (key === "/") {
      event.preventDefault();
      judgeForm()?.querySelector("textarea[name=critique]")?.focus();
    }
  });

  // Time on the pair, written just before the form's values are collected (capture phase runs before htmx).
  document.addEventListener("submit", (event) => {
    const field = event.target.querySelector?.("input[name=time_taken_ms]");
    if (field) field.value = String(Math.round(performance.now() - shownAt));
  }, true);
  document.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.elt.closest?.("#judge-form")) {
      event.detail.parameters.time_taken_ms = String(Math.round(performance.now() - shownAt));
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "compare" && !document.getElementById("compare")?.contains(event.detail.target)) return;
    shownAt = performance.now();
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    const errors = document.querySelector("#compare .error");
    (errors || document.getElementById("compare"))?.scrollIntoView({ block: errors ? "center" : "start" });
  });

  // htmx leaves the page as it was on an error answer or a lost connection: say so instead of doing nothing.
  function showProblem(message) {
    const compare = document.getElementById("compare");
    if (!compare) return;
    let box = compare.querySelector("[data-problem]");
    if (!box) {
      box = document.createElement("div");
      box.className = "flash flash-error";
      box.setAttribute("role", "alert");
      box.dataset.problem = "";
      compare.prepend(box);
    }
    box.textContent = message;
  }
  document.addEventListener("htmx:responseError", (event) => {
    showProblem(`The server answered ${event.detail.xhr.status}: nothing was saved. Reload the page to go on.`);
  });
  document.addEventListener("htmx:sendError", () => {
    showProblem("No connection to the server: nothing was saved. Press Enter again to retry.");
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest?.("[data-shortcuts-button]")) toggleShortcuts();
  });
})();
