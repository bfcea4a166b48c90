// The overview's live indicator. The rows themselves arrive as HTML over the websocket and
// htmx's ws extension swaps them in by id; this only says whether the socket is up.
"use strict";

(function () {
  const root = document.getElementById("overview");
  const live = document.getElementById("live");
  root.addEventListener("htmx:wsOpen", () => {
    live.textContent = "live";
    live.className = "live on";
  });
  root.addEventListener("htmx:wsClose", () => {
    live.textContent = "reconnecting";
    live.className = "live off";
  });
  root.addEventListener("htmx:wsAfterMessage", () => {
    root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
  });
})();
