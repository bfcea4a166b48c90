// The rebalance panel: a websocket says when a proposal appeared or changed; the panel then
// fetches its own fresh HTML (htmx), rendered for this user. Actions answer into the note
// outside the panel (errors too: base.html's htmx config swaps 400 and 409).
//
// A refresh must never cost an operator what they are typing. Every input in the panel has an
// id and hx-preserve, so htmx moves the very element, text and all, into the new panel. Moving
// a focused element drops its focus where the browser lacks Element.moveBefore (which htmx uses
// when it can), so the field being typed in gets its focus and caret back here.
"use strict";

(function () {
  const live = document.getElementById("live");
  let typing = null;

  function isPanel(event) {
    return event.detail.target && event.detail.target.id === "rebalance-panel";
  }

  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const active = document.activeElement;
    typing = null;
    if (isPanel(event) && active && active.id && active.closest("#rebalance-panel")) {
      typing = { id: active.id, start: active.selectionStart, end: active.selectionEnd };
    }
  });

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (!isPanel(event) || typing === null) return;
    const field = document.getElementById(typing.id);
    if (field && document.activeElement !== field) {
      field.focus();
      if (typeof typing.start === "number" && field.setSelectionRange) {
        field.setSelectionRange(typing.start, typing.end);
      }
    }
    typing = null;
  });

  function refresh() {
    document.body.dispatchEvent(new CustomEvent("rebalance-changed"));
    document.body.dataset.rebalanceUpdates = String(Number(document.body.dataset.rebalanceUpdates || 0) + 1);
  }

  window.liveSocket(live.dataset.ws, live, refresh, refresh);
})();
