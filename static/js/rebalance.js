// The rebalance panel: a websocket says when a proposal appeared or changed; the panel then
// fetches its own fresh HTML (htmx), rendered for this user. Errors (400/409) are swapped in
// too, because they carry the message saying what happened.
"use strict";

(function () {
  const live = document.getElementById("live");

  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if ((status === 400 || status === 409) && event.detail.target.id === "rebalance-panel") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function refresh() {
    document.body.dispatchEvent(new CustomEvent("rebalance-changed"));
    document.body.dataset.rebalanceUpdates = String(Number(document.body.dataset.rebalanceUpdates || 0) + 1);
  }

  window.liveSocket(live.dataset.ws, live, refresh, refresh);
})();
