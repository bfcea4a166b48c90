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

  const duration = (ms) =>
    ms === null || ms === undefined ? "–" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;

  function drawTape(s) {
    const body = document.querySelector("#tape tbody");
    const db = places(s.base), dq = places(s.quote);
    body.replaceChildren(
      ...s.tape.map((t) => {
        const tr = document.createElement("tr");
        const h = t.hedge;
        const pnl = h && h.pnl_quote !== null ? Number(h.pnl_quote) : null;
        const slip = h && h.slippage_bps !== null
          ? `${fmt(h.slippage_bps, 1)}${h.allowed_bps !== null ? ` / ${fmt(h.allowed_bps, 0)}` : ""}`
          : "–";
        tr.append(
          cell(new Date(t.timestamp).toLocaleTimeString()),
          cell(t.user_side === "buy" ? "buys" : "sells", t.user_side),
          cell(fmt(t.amount, db), "num"),
          cell(fmt(t.price, dq), "num"),
          cell(h ? h.venue : "–"),
          cell(h ? `${h.side} ${fmt(h.filled, db)}` : "–", h ? `num ${h.side}` : "num"),
          cell(h ? fmt(h.price, dq) : "–", "num"),
          cell(t.edge_bps === null ? "–" : fmt(t.edge_bps, 1), "num"),
          cell(pnl === null ? "–" : fmt(pnl, dq), pnl === null ? "num" : pnl < 0 ? "num loss" : "num gain"),
          cell(h && h.pnl_bps !== null ? fmt(h.pnl_bps, 1) : "–", "num"),
          cell(slip, "num"),
          cell(h ? duration(h.hedge_ms) : "–", "num"),
          cell(h ? h.state.replace("_", " ") : "not captured", `hedge-${h ? h.state : "none"}`)
        );
        if (h && h.error) tr.title = h.error;
        return tr;
      })
    );
  }

  function drawHedging(s) {
    const g = s.hedging;
    if (!g) return;
    const dq = places(s.quote), d = g.today;
    const states = Object.entries(d.by_state || {}).map(([k, n]) => `${n} ${k.replace("_", " ")}`).join(", ");
    document.getElementById("hedge-day").textContent = d.hedges
      ? `${d.hedges} hedges done (${states}): P&L ${fmt(d.pnl_quote, dq)} ${s.quote}` +
        (d.pnl_bps !== null ? ` (${fmt(d.pnl_bps, 1)} bps)` : "") +
        `; fill to hedge done: median ${duration(d.median_ms)}, p99 ${duration(d.p99_ms)}` +
        (g.in_flight ? `; ${g.in_flight} in flight` : "")
      : `No hedge done yet today${g.in_flight ? `; ${g.in_flight} in flight` : ""}.`;
    const count = document.getElementById("failed-count");
    count.textContent = String(g.failed + (g.mismatches || 0));
    document.getElementById("hedges-link").classList.toggle("alarm", g.failed + (g.mismatches || 0) > 0);
    const rows = (g.pending || []).map((p) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(p.side, p.side),
        cell(fmt(p.amount, places(s.base)), "num"),
        cell(String(p.fills), "num"),
        cell(p.short_of_balance ? `short of balance: ${p.note}` : "below the venue's minimum order", p.short_of_balance ? "warn" : "muted")
      );
      return tr;
    });
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell("Nothing pending: every fill is hedged or being hedged.", "muted");
      td.colSpan = 4;
      tr.append(td);
      rows.push(tr);
    }
    document.querySelector("#pending tbody").replaceChildren(...rows);
  }

  const SIDE_NAMES = { buy: "bids", sell: "asks" };

  function drawQuotes(s) {
    const q = s.quoting || {};
    const head = document.getElementById("quotes-head");
    const facts = [
      ["mode", q.mode],
      [`reference (${s.quote})`, q.reference && fmt(q.reference, places(s.quote))],
      ["σ (bps/√s)", q.sigma_bps],
      ["skew", q.skew],
      ["reservation (bps)", q.reservation_bps],
    ].filter(([, v]) => v !== undefined && v !== null && v !== "");
    head.replaceChildren(
      ...facts.map(([k, v]) => {
        const span = document.createElement("span");
        const b = document.createElement("strong");
        b.textContent = v;
        span.append(`${k} `, b);
        return span;
      })
    );
    const hold = document.getElementById("quotes-hold");
    hold.hidden = !q.hold;
    hold.textContent = q.hold ? `Not quoting: ${q.hold}` : "";
    const levels = q.levels || [];
    const asks = levels.filter((l) => l.side === "sell").reverse();
    const bids = levels.filter((l) => l.side === "buy");
    const row = (l) => {
      const tr = document.createElement("tr");
      tr.className = l.side === "sell" ? "ask" : "bid";
      const edge = l.edge_bps === null ? null : Number(l.edge_bps);
      const edgeClass = edge === null ? "num edge-none" : edge < 1 ? "num edge-thin" : "num";
      tr.append(
        cell(l.side === "sell" ? "ask" : "bid"),
        cell(fmt(l.price, places(s.quote)), "num"),
        cell(fmt(l.amount, places(s.base)), "num"),
        cell(edge === null ? "–" : fmt(edge, 2), edgeClass),
        cell(fmt(l.distance_bps, 1), "num")
      );
      return tr;
    };
    const mid = document.createElement("tr");
    mid.className = "mid";
    const td = cell(q.reference ? `reference ${fmt(q.reference, places(s.quote))}` : "no reference");
    td.colSpan = 5;
    mid.append(td);
    document.querySelector("#levels tbody").replaceChildren(...asks.map(row), mid, ...bids.map(row));
    const sides = document.getElementById("sides");
    sides.replaceChildren(
      ...Object.entries(q.sides || {}).map(([side, st]) => {
        const li = document.createElement("li");
        const tag = document.createElement("span");
        tag.className = st.quoting ? (st.adding ? "" : "held") : "off";
        tag.textContent = st.quoting ? (st.adding ? "quoting" : "no new orders") : "off";
        li.append(`${SIDE_NAMES[side]}: `, tag, st.why ? ` (${st.why})` : "");
        return li;
      })
    );
  }

  function drawBot(s) {
    const banner = document.getElementById("desk-killed");
    const ks = s.kill_switch || {};
    banner.hidden = !ks.engaged;
    banner.textContent = ks.engaged ? `Desk kill switch engaged by ${ks.actor}: ${ks.reason}` : "";
    const stopped = s.state === "paused" || s.state === "killed";
    const breaker = s.state === "holding" && s.protect_until;
    const enabled = {
      pause: !stopped && !ks.engaged,
      resume: (stopped || breaker) && !ks.engaged,
      "cancel-all": true,
      kill: s.state !== "killed",
      "kill-all": !ks.engaged,
      "resume-all": !!ks.engaged,
    };
    document.querySelectorAll("#bot-panel button[data-command]").forEach((b) => {
      b.disabled = !enabled[b.dataset.command];
    });
    document.getElementById("actions").replaceChildren(
      ...(s.actions || []).map((a) => {
        const li = document.createElement("li");
        const who = document.createElement("span");
        who.className = "who";
        who.textContent = a.actor;
        li.append(`${new Date(a.at).toLocaleTimeString()} `, who, ` ${a.action.replace("_", " ")}`,
          a.subject ? ` ${a.subject}` : "", a.reason ? `: ${a.reason}` : "");
        return li;
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
    drawQuotes(s);
    drawBot(s);
    drawHedging(s);
    if (window.Plotly) drawDepth(s);
    root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
  }

  function connect(delay) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${root.dataset.ws}`);
    const live = document.getElementById("live");
    socket.onopen = () => { live.textContent = "live"; live.className = "live on"; delay = 1000; };
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (!data.reply) draw(data); // replies answer commands sent over the socket
    };
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
