// The market page: draws a snapshot, then redraws in place on each one the websocket pushes.
"use strict";

(function () {
  const root = document.getElementById("market");
  const DECIMALS = { BTC: 5, ETH: 4, USDT: 2, USDC: 2, USD: 2 };
  const places = (asset) => DECIMALS[asset] ?? 6;
  const fmt = (value, digits) =>
    value === null || value === undefined || value === ""
      ? "–"
      : Number(value).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

  function cumulative(levels) {
    let total = 0;
    const x = [], y = [];
    for (const [price, amount] of levels) {
      total += Number(amount);
      x.push(Number(price));
      y.push(total);
    }
    return { x, y };
  }

  function drawDepth(s) {
    const bids = cumulative(s.book.bids), asks = cumulative(s.book.asks);
    // Each MM quote is marked where it sits on its side's cumulative curve.
    const depthAt = (curve, price) => curve.y[curve.x.indexOf(price)] ?? 0;
    const marker = (side) => {
      const quotes = s.quotes.filter((q) => q.side === side).map((q) => Number(q.price));
      const curve = side === "buy" ? bids : asks;
      return { x: quotes, y: quotes.map((price) => depthAt(curve, price)) };
    };
    const traces = [
      { name: "bids", x: bids.x, y: bids.y, type: "scatter", mode: "lines", line: { shape: "hv", color: "#1a9850" }, fill: "tozeroy" },
      { name: "asks", x: asks.x, y: asks.y, type: "scatter", mode: "lines", line: { shape: "vh", color: "#d73027" }, fill: "tozeroy" },
      { name: "MM bids", ...marker("buy"), type: "scatter", mode: "markers", marker: { symbol: "triangle-up", size: 10, color: "#1a9850" } },
      { name: "MM asks", ...marker("sell"), type: "scatter", mode: "markers", marker: { symbol: "triangle-down", size: 10, color: "#d73027" } },
    ];
    const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
    const layout = {
      margin: { l: 50, r: 10, t: 10, b: 40 },
      xaxis: { title: { text: `price (${s.quote})` } },
      yaxis: { title: { text: `cumulative ${s.base}` }, rangemode: "tozero" },
      legend: { orientation: "h", y: -0.25 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: dark ? "#ddd" : "#222" },
      uirevision: "keep", // keep the user's zoom across updates
    };
    Plotly.react("depth-chart", traces, layout, { displayModeBar: false, responsive: true });
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function drawBalances(s) {
    const body = document.querySelector("#balances tbody");
    body.replaceChildren(
      ...s.balances.map((b) => {
        const tr = document.createElement("tr");
        tr.dataset.key = `${b.role}:${b.asset}`;
        const d = places(b.asset);
        const name = cell(b.account, "name");
        const venue = document.createElement("small");
        venue.className = "muted";
        venue.textContent = ` @ ${b.venue}`;
        name.append(venue);
        tr.append(name, cell(b.asset), cell(fmt(b.free, d), "num"), cell(fmt(b.used, d), "num"), cell(fmt(b.total, d), "num"));
        return tr;
      })
    );
    const exposure = document.getElementById("exposure");
    exposure.textContent = `${fmt(s.exposure, places(s.base))} ${s.base}`;
    exposure.classList.toggle("warn", Math.abs(Number(s.exposure)) > 0.5 * Number(s.quotes[0]?.amount || 1));
    document.getElementById("target").textContent = `${fmt(s.target_base, places(s.base))} ${s.base}`;
  }

  function drawTape(s) {
    const body = document.querySelector("#tape tbody");
    const db = places(s.base), dq = places(s.quote);
    body.replaceChildren(
      ...s.tape.map((t) => {
        const tr = document.createElement("tr");
        const h = t.hedge;
        tr.append(
          cell(new Date(t.timestamp).toLocaleTimeString()),
          cell(t.user_side === "buy" ? "buys" : "sells", t.user_side),
          cell(fmt(t.amount, db), "num"),
          cell(fmt(t.price, dq), "num"),
          cell(h ? h.venue : "–"),
          cell(h ? h.side : "–", h ? h.side : ""),
          cell(h ? fmt(h.filled, db) : "–", "num"),
          cell(h ? fmt(h.price, dq) : "–", "num"),
          cell(t.edge_bps === null ? "–" : fmt(t.edge_bps, 1), "num"),
          cell(h ? h.state : "not captured", `hedge-${h ? h.state : "none"}`)
        );
        if (h && h.error) tr.title = h.error;
        return tr;
      })
    );
  }

  function draw(s) {
    const state = document.getElementById("state");
    state.textContent = s.state;
    state.className = `state state-${s.state}`;
    document.getElementById("state-reason").textContent = s.state_reason || s.book_error || "";
    drawBalances(s);
    drawTape(s);
    if (window.Plotly) drawDepth(s);
    root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
  }

  function connect(delay) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${root.dataset.ws}`);
    const live = document.getElementById("live");
    socket.onopen = () => { live.textContent = "live"; live.className = "live on"; delay = 1000; };
    socket.onmessage = (event) => draw(JSON.parse(event.data));
    socket.onclose = () => {
      live.textContent = "reconnecting";
      live.className = "live off";
      setTimeout(() => connect(Math.min(delay * 2, 15000)), delay);
    };
  }

  let snapshot = JSON.parse(document.getElementById("snapshot").textContent);
  draw(snapshot);
  connect(1000);
})();
