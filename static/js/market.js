// The market page: draws a snapshot and the market's history, then updates both in place on
// each snapshot the websocket pushes: the depth chart with Plotly.react, the history charts by
// appending points with Plotly.extendTraces (never a full redraw).
"use strict";

(function () {
  const root = document.getElementById("market");
  const DECIMALS = { BTC: 5, ETH: 4, USDT: 2, USDC: 2, USD: 2 };
  const places = (asset) => DECIMALS[asset] ?? 6;
  // A price keeps five significant digits, and at least its quote asset's places: XHT/USDT at
  // 0.2483 would read 0.25 at USDT's two, and every level alike (bots.engine.figures.price_places).
  const pricePlaces = (price, asset) => {
    const p = Math.abs(Number(price));
    const need = p > 0 && Number.isFinite(p) ? 4 - Math.floor(Math.log10(p)) : 0;
    return Math.min(8, Math.max(places(asset), need));
  };
  const referenceOf = (s) => (s.quoting && s.quoting.reference) || (s.tape[0] && s.tape[0].price);
  // One formatter per number of places, kept: Number.toLocaleString with options builds a new
  // one at every call, and a snapshot formats a few hundred figures (a sixth of the page's
  // script time in the demo).
  const formats = new Map();
  const fmt = (value, digits) => {
    if (value === null || value === undefined || value === "") return "–";
    let format = formats.get(digits);
    if (!format) {
      // signDisplay "negative": a figure that rounds to zero reads 0.00, not -0.00.
      format = new Intl.NumberFormat("en-US", {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
        signDisplay: "negative",
      });
      formats.set(digits, format);
    }
    return format.format(Number(value));
  };
  // A gain or a loss by the figure as shown: a tenth of a cent lost is 0.00, in neither colour.
  const tone = (value, digits) => {
    const shown = Number(Number(value).toFixed(digits));
    return shown < 0 ? "num loss" : shown > 0 ? "num gain" : "num";
  };
  // What each part of the page was last drawn from: a snapshot that leaves a part as it was
  // (a push for a balance or a fill moves neither book) skips its drawing. Plotly lays out the
  // whole depth chart again on every react, its axes' labels included: near half the page's CPU.
  const drawn = new Map();
  const unchanged = (part, ...inputs) => {
    const key = JSON.stringify(inputs);
    if (drawn.get(part) === key) return true;
    drawn.set(part, key);
    return false;
  };
  // A time of day in UTC, 24-hour, as the charts and the server-drawn parts of the desk show
  // it: the browser's own zone and locale would give the same moment another name.
  const clock = (at) => new Date(at).toISOString().slice(11, 19);

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

  const dark = () =>
    document.documentElement.dataset.theme
      ? document.documentElement.dataset.theme === "dark"
      : window.matchMedia("(prefers-color-scheme: dark)").matches;

  function baseLayout() {
    return {
      margin: { l: 56, r: 16, t: 10, b: 40 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: dark() ? "#ddd" : "#222", size: 11 },
      legend: { orientation: "h", y: -0.22 },
      uirevision: "keep", // keep the user's zoom across updates
    };
  }
  const PLOT_CONFIG = { displayModeBar: false, responsive: true };

  function drawDepth(s) {
    const bids = cumulative(s.book.bids), asks = cumulative(s.book.asks);
    // Each MM quote is marked where it sits on its side's cumulative curve, labelled with the
    // edge the last tick gave its level (after hedging it and both venues' fees).
    const depthAt = (curve, price) => curve.y[curve.x.indexOf(price)] ?? 0;
    const levels = (s.quoting && s.quoting.levels) || [];
    const dq = pricePlaces(referenceOf(s), s.quote), db = places(s.base);
    const marker = (side) => {
      const quotes = s.quotes.filter((q) => q.side === side);
      const curve = side === "buy" ? bids : asks;
      const edges = quotes.map((q) => {
        const level = levels.find((l) => l.side === side && Number(l.price) === Number(q.price));
        return level && level.edge_bps !== null ? Number(level.edge_bps) : null;
      });
      return {
        x: quotes.map((q) => Number(q.price)),
        y: quotes.map((q) => depthAt(curve, Number(q.price))),
        text: edges.map((e) => (e === null ? "" : fmt(e, 1))),
        hovertext: quotes.map((q, i) =>
          `${side === "buy" ? "bid" : "ask"} ${fmt(q.price, dq)} × ${fmt(q.amount, db)} ${s.base}<br>` +
          (edges[i] === null ? "edge: not in the last tick's levels" : `edge ${fmt(edges[i], 2)} bps`)
        ),
      };
    };
    const traces = [
      { name: "own bids", x: bids.x, y: bids.y, type: "scatter", mode: "lines", line: { shape: "hv", color: "#1a9850" }, fill: "tozeroy" },
      { name: "own asks", x: asks.x, y: asks.y, type: "scatter", mode: "lines", line: { shape: "vh", color: "#d73027" }, fill: "tozeroy" },
      { name: "MM bids (edge bps)", ...marker("buy"), type: "scatter", mode: "markers+text", textposition: "top center", hoverinfo: "text", textfont: { size: 10 }, marker: { symbol: "triangle-up", size: 10, color: "#1a9850" } },
      { name: "MM asks (edge bps)", ...marker("sell"), type: "scatter", mode: "markers+text", textposition: "top center", hoverinfo: "text", textfont: { size: 10 }, marker: { symbol: "triangle-down", size: 10, color: "#d73027" } },
    ];
    // The hedge venues' books, cumulative over all their levels but drawn only across the own
    // book's prices (and a margin): a deep outside book would otherwise stretch the price axis.
    const prices = [...bids.x, ...asks.x];
    const span = prices.length ? Math.max(...prices) - Math.min(...prices) : 0;
    const lo = prices.length ? Math.min(...prices) - 0.25 * span : -Infinity;
    const hi = prices.length ? Math.max(...prices) + 0.25 * span : Infinity;
    const clip = (curve) => {
      const keep = curve.x.map((x, i) => i).filter((i) => curve.x[i] >= lo && curve.x[i] <= hi);
      return { x: keep.map((i) => curve.x[i]), y: keep.map((i) => curve.y[i]) };
    };
    const errors = [];
    (s.hedge_books || []).forEach((book, i) => {
      if (book.error) errors.push(`${book.venue}: ${book.error}`);
      const dash = ["dash", "dot", "dashdot"][i % 3];
      traces.push(
        { name: `${book.venue} bids`, ...clip(cumulative(book.bids)), type: "scatter", mode: "lines", yaxis: "y2", line: { shape: "hv", color: "#1a9850", dash, width: 1.5 } },
        { name: `${book.venue} asks`, ...clip(cumulative(book.asks)), type: "scatter", mode: "lines", yaxis: "y2", line: { shape: "vh", color: "#d73027", dash, width: 1.5 } }
      );
    });
    const note = document.getElementById("hedge-book-errors");
    note.hidden = !errors.length;
    note.textContent = errors.length ? `Hedge book not read: ${errors.join("; ")}` : "";
    const layout = {
      ...baseLayout(),
      margin: { l: 56, r: 56, t: 10, b: 40 },
      // Tick labels are not measured against the chart's edges at every redraw (Plotly's
      // "hide past div", a quarter of the depth chart's time): the margins leave them room.
      xaxis: { title: { text: `price (${s.quote})` }, ticklabeloverflow: "allow" },
      yaxis: { title: { text: `own book, cumulative ${s.base}` }, rangemode: "tozero", ticklabeloverflow: "allow" },
      yaxis2: { title: { text: `hedge venues, cumulative ${s.base}` }, rangemode: "tozero", overlaying: "y", side: "right", showgrid: false, ticklabeloverflow: "allow" },
      legend: { orientation: "h", y: -0.25 },
    };
    if (unchanged("depth", traces, layout)) return;
    Plotly.react("depth-chart", traces, layout, PLOT_CONFIG);
  }

  // --- history: inventory, exposure and P&L attribution ----------------------------------
  // The first load draws the server's buckets; each snapshot carries the levels now and the
  // P&L of the bucket under way, appended with extendTraces at most once per HISTORY_STEP_MS.
  const HISTORY_STEP_MS = 5000;
  const PNL_PARTS = [
    ["spread", "Spread captured", "#1a9850"],
    ["hedge", "Hedge P&L", "#d73027"],
    ["intervention", "Interventions", "#2aa198"],
    ["fees", "Fees paid", "#b7791f"],
    ["mtm", "Inventory mark-to-market", "#8e6bd8"],
    ["total", "Total", "#3b6fe0"],
  ];
  const INVENTORY_COLORS = ["#3b6fe0", "#d9822b", "#8e6bd8", "#2aa198"];
  let hist = null;

  function historyLayout(unit) {
    return {
      ...baseLayout(),
      xaxis: { type: "date" }, // ms since the epoch, shown as UTC
      // Plain decimals at the asset's places (trailing zeros trimmed), never "20μ" BTC.
      yaxis: { title: { text: unit }, zeroline: true, tickformat: `,.${places(unit) + 3}~f` },
      hovermode: "x unified",
    };
  }

  // The window's quiet lead-in is not drawn: a market that started trading ten minutes ago
  // gets ten minutes of chart, not six hours of flat lines squeezed to the right edge.
  const QUIET_POINTS_KEPT = 10;

  function firstDrawn(h) {
    const series = [...h.holdings.map((a) => a.values), h.in_flight, h.held, h.exposure, h.unhedged,
      ...(h.pnl ? PNL_PARTS.map(([k]) => h.pnl[k]) : [])];
    const n = h.exposure.length;
    const changed = series.map((v) => v.findIndex((y) => Number(y) !== Number(v[0]))).filter((i) => i > 0);
    const first = changed.length ? Math.min(...changed) - 1 : n - QUIET_POINTS_KEPT;
    return Math.max(0, Math.min(first, n - QUIET_POINTS_KEPT));
  }

  function drawHistory(h) {
    const base = root.dataset.base, quote = root.dataset.quote;
    const n = h.exposure.length;
    const from = firstDrawn(h);
    const x = h.exposure.map((_, i) => (i < n - 1 ? h.start + (i + 1) * h.bucket_ms : h.now));
    const line = (name, values, color, extra) => ({
      name, x: x.slice(from), y: values.slice(from).map(Number), type: "scatter", mode: "lines",
      line: { color, width: 1.8 }, ...extra,
    });
    const inventory = h.holdings.map((a, i) => line(a.label, a.values, INVENTORY_COLORS[i % INVENTORY_COLORS.length]));
    const flying = h.in_flight.some((v) => Number(v) !== 0);
    inventory.push(
      line("in flight", h.in_flight, "#98a2b3", { line: { color: "#98a2b3", dash: "dot", width: 1.5 }, visible: flying ? true : "legendonly" }),
      line("all accounts", h.held, "#667085", { line: { color: "#667085", width: 2.5 } })
    );
    Plotly.react("inventory-chart", inventory, historyLayout(base), PLOT_CONFIG);
    Plotly.react(
      "exposure-chart",
      [line("net exposure", h.exposure, "#3b6fe0"), line("unhedged", h.unhedged, "#d73027", { line: { color: "#d73027", dash: "dash", width: 1.8 } })],
      historyLayout(base),
      PLOT_CONFIG
    );
    const pnl = h.pnl
      ? PNL_PARTS.map(([k, name, color]) => line(name, h.pnl[k], color, k === "total" ? { line: { color, width: 3 } } : {}))
      : [];
    Plotly.react("pnl-chart", pnl, historyLayout(quote), PLOT_CONFIG);
    const startOfBucket = {};
    for (const [k] of PNL_PARTS) startOfBucket[k] = h.pnl && n > 1 ? Number(h.pnl[k][n - 2]) : 0;
    hist = {
      bucket: h.bucket,
      base: startOfBucket, // cumulative P&L at the start of the bucket under way
      hasPnl: !!h.pnl,
      keys: h.holdings.map((a) => a.key).join(","),
      lastX: x[n - 1],
      lastSeen: x[n - 1],
      maxPoints: n + Math.ceil((6 * 3600 * 1000) / HISTORY_STEP_MS),
      pending: null,
      timer: null,
    };
    document.getElementById("pnl-note").textContent = h.pnl
      ? ""
      : "No reference price recorded in the window: nothing to judge the trades against yet.";
    showPnl(h.pnl ? Object.fromEntries(PNL_PARTS.map(([k]) => [k, Number(h.pnl[k][n - 1])])) : null);
  }

  function showPnl(values) {
    const dq = places(root.dataset.quote);
    document.querySelectorAll("#pnl-table tr[data-part]").forEach((tr) => {
      const td = tr.querySelector("td.num");
      const v = values ? values[tr.dataset.part] : null;
      td.textContent = v === null || v === undefined ? "–" : fmt(v, dq);
      td.className = v === null || v === undefined ? "num" : tone(v, dq);
    });
  }

  let lastResync = 0;
  function resync() {
    // A whole bucket was missed (a quiet spell, a reconnect): read the history again, once.
    if (Date.now() - lastResync < 30000) return;
    lastResync = Date.now();
    fetch(location.pathname, { headers: { "HX-Request": "true", "HX-Target": "market-history" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((h) => {
        if (hist && hist.timer) clearTimeout(hist.timer);
        drawHistory(h);
      })
      .catch(() => {});
  }

  function onTail(t) {
    if (!hist || !t || t.at <= hist.lastSeen) return; // older than what is drawn
    const hasPnl = !!t.current;
    if (t.holdings.map((a) => a.key).join(",") !== hist.keys || hasPnl !== hist.hasPnl) return resync();
    if (t.bucket === hist.bucket + 1) {
      if (t.previous) for (const [k] of PNL_PARTS) hist.base[k] += Number(t.previous[k]);
      hist.bucket = t.bucket;
    } else if (t.bucket !== hist.bucket) {
      return t.bucket > hist.bucket ? resync() : undefined;
    }
    hist.lastSeen = t.at;
    hist.pending = {
      x: t.at,
      inventory: [...t.holdings.map((a) => a.values[0]), t.in_flight[0], t.held[0]].map(Number),
      exposure: [t.exposure[0], t.unhedged[0]].map(Number),
      pnl: hasPnl ? PNL_PARTS.map(([k]) => hist.base[k] + Number(t.current[k])) : null,
    };
    const wait = hist.lastX + HISTORY_STEP_MS - t.at;
    if (wait <= 0) appendPending();
    else if (!hist.timer) hist.timer = setTimeout(appendPending, wait);
  }

  function appendPending() {
    hist.timer = null;
    const p = hist.pending;
    if (!p) return;
    hist.pending = null;
    const extend = (id, values) => {
      const idx = values.map((_, i) => i);
      Plotly.extendTraces(id, { x: idx.map(() => [p.x]), y: values.map((v) => [v]) }, idx, hist.maxPoints);
    };
    extend("inventory-chart", p.inventory);
    extend("exposure-chart", p.exposure);
    if (p.pnl) {
      extend("pnl-chart", p.pnl);
      showPnl(Object.fromEntries(PNL_PARTS.map(([k], i) => [k, p.pnl[i]])));
    }
    hist.lastX = p.x;
    root.dataset.historyPoints = String(Number(root.dataset.historyPoints || 0) + 1);
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
    const db = places(s.base), dq = places(s.quote), dp = pricePlaces(referenceOf(s), s.quote);
    if (unchanged("tape", s.tape, db, dq, dp)) return;
    body.replaceChildren(
      ...s.tape.map((t) => {
        const tr = document.createElement("tr");
        const h = t.hedge;
        const pnl = h && h.pnl_quote !== null ? Number(h.pnl_quote) : null;
        const slip = h && h.slippage_bps !== null
          ? `${fmt(h.slippage_bps, 1)}${h.allowed_bps !== null ? ` / ${fmt(h.allowed_bps, 0)}` : ""}`
          : "–";
        tr.append(
          cell(clock(t.timestamp)),
          cell(t.user_side === "buy" ? "buys" : "sells", t.user_side),
          cell(fmt(t.amount, db), "num"),
          cell(fmt(t.price, dp), "num"),
          cell(h ? h.venue : "–"),
          cell(h ? `${h.side} ${fmt(h.filled, db)}` : "–", h ? `num ${h.side}` : "num"),
          cell(h ? fmt(h.price, dp) : "–", "num"),
          cell(t.edge_bps === null ? "–" : fmt(t.edge_bps, 1), "num"),
          cell(pnl === null ? "–" : fmt(pnl, dq), pnl === null ? "num" : tone(pnl, dq)),
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
      [`reference (${s.quote})`, q.reference && fmt(q.reference, pricePlaces(q.reference, s.quote))],
      ["σ (bps/√s)", q.sigma_bps],
      ["skew", q.skew],
      ["reservation (bps)", q.reservation_bps],
      ["how", q.fills],
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
        cell(fmt(l.price, pricePlaces(q.reference, s.quote)), "num"),
        cell(fmt(l.amount, places(s.base)), "num"),
        cell(edge === null ? "–" : fmt(edge, 2), edgeClass),
        cell(fmt(l.distance_bps, 1), "num")
      );
      return tr;
    };
    const mid = document.createElement("tr");
    mid.className = "mid";
    const td = cell(q.reference ? `reference ${fmt(q.reference, pricePlaces(q.reference, s.quote))}` : "no reference");
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
      // Stops can be repeated: each cancels whatever is on the book again, and says so.
      "cancel-all": true,
      kill: true,
      "kill-all": true,
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
        li.append(`${clock(a.at)} `, who, ` ${a.action.replace("_", " ")}`,
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
    if (window.Plotly) {
      drawDepth(s);
      onTail(s.history);
    }
    root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
  }

  // A command carried out empties its form's reason, so the next command (a quick Resume after
  // a Pause) is not logged with the last one's reason; a refused one keeps it, to be corrected.
  document.querySelectorAll("#bot-panel form.controls").forEach((form) => {
    form.addEventListener("htmx:afterRequest", (event) => {
      if (event.detail.successful) form.querySelector("input[name=reason]").value = "";
    });
  });

  let snapshot = JSON.parse(document.getElementById("snapshot").textContent);
  root.dataset.base = snapshot.base;
  root.dataset.quote = snapshot.quote;
  if (window.Plotly) drawHistory(JSON.parse(document.getElementById("history").textContent));
  draw(snapshot);
  window.liveSocket(root.dataset.ws, document.getElementById("live"), (event) => {
    const data = JSON.parse(event.data);
    if (!data.reply) draw(data); // replies answer commands sent over the socket
  });
})();
