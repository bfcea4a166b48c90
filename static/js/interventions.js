// The interventions page follows the market's live push: each push of the market (a slice
// filled, a state changed, a tick) asks the panel for its fresh HTML, at most once a second.
// Inputs keep what is typed through the swap (hx-preserve).
"use strict";

(function () {
  const live = document.getElementById("live");
  let waiting = false;

  function refresh() {
    if (waiting) return;
    waiting = true;
    setTimeout(() => {
      waiting = false;
      document.body.dispatchEvent(new CustomEvent("interventions-changed"));
      document.body.dataset.interventionUpdates = String(Number(document.body.dataset.interventionUpdates || 0) + 1);
    }, 1000);
  }

  window.liveSocket(live.dataset.ws, live, refresh, refresh);
})();
