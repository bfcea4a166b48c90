// One page socket that keeps itself open: it reconnects with a doubling delay (1 s up to 15 s)
// and shows its state in the page's "live" indicator. The market, rebalance and sizing pages
// use it; the overview's socket is htmx's websocket extension.
window.liveSocket = function (path, live, onMessage, onReconnect) {
  function connect(delay) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${path}`);
    socket.onopen = () => {
      if (delay > 1000 && onReconnect) onReconnect(); // catch up on what changed meanwhile
      live.textContent = "live";
      live.className = "live on";
      delay = 1000;
    };
    socket.onmessage = onMessage;
    socket.onclose = () => {
      live.textContent = "reconnecting";
      live.className = "live off";
      setTimeout(() => connect(Math.min(delay * 2, 15000)), delay);
    };
  }
  connect(1000);
};
