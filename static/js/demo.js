// The public simulation at /demo: forms post to the server's engine and the answer redraws the
// panel, the balance bars (Plotly.react) and extends the exposure and skew lines
// (Plotly.extendTraces). Without JavaScript the same forms post and the page reloads.
"use strict";

(function () {
  const root = document.getElementById("demo");
  if (!root) return;
  const actUrl = root.dataset.act;
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const errorBox = document.getElementById("demo-error");
  const panel = document.getElementById("demo-panel");
  const share = document.getElementById("share");
  const MAX_POINTS = 2000;
  let seriesCount = 0;
  let playing = false;
  let busy = false;

  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const colors = () => ({ mm: css("--accent") || "#2f5bd3", hedge: css("--warn") || "#9a5d00",
    fg: css("--fg") || "#222", line: css("--line") || "#ddd", good: css("--good"), bad: css("--bad") });

  function baseLayout(c) {
    return {
      margin: { l: 60, r: 55, t: 30, b: 40 },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: c.fg, size: 12 }, showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      uirevision: "keep",
    };
  }

  function drawBars(s) {
    const c = colors();
    const btc = [Number(s.bars.mm.BTC), Number(s.bars.hedge.BTC)];
    const usdt = [Number(s.bars.mm.USDT), Number(s.bars.hedge.USDT)];
    const names = ["MM bot", "Hedging bot"];
    const traces = [
      { type: "bar", name: "BTC", x: names, y: btc, xaxis: "x", yaxis: "y",
        marker: { color: [c.mm, c.hedge] }, text: btc.map((v) => v.toFixed(4)), textposition: "outside",
        hovertemplate: "%{x}: %{y:.5f} BTC<extra></extra>", showlegend: false },
      { type: "bar", name: "USDT", x: names, y: usdt, xaxis: "x2", yaxis: "y2",
        marker: { color: [c.mm, c.hedge] }, text: usdt.map((v) => Math.round(v).toLocaleString("en-US")),
        textposition: "outside", hovertemplate: "%{x}: %{y:,.2f} USDT<extra></extra>", showlegend: false },
    ];
    const shapes = [];
    const band = (key, i, axis) => {
      const b = s.bands[key];
      if (!b) return;
      shapes.push({ type: "rect", xref: axis.x, yref: axis.y, x0: i - 0.45, x1: i + 0.45,
        y0: Number(b[0]), y1: Number(b[1]), fillcolor: c.good, opacity: 0.12, line: { width: 0 }, layer: "below" });
    };
    band("mm_BTC", 0, { x: "x", y: "y" }); band("hedge_BTC", 1, { x: "x", y: "y" });
    band("mm_USDT", 0, { x: "x2", y: "y2" }); band("hedge_USDT", 1, { x: "x2", y: "y2" });
    const top = (values, key1, key2) => Math.max(...values, Number((s.bands[key1] || [0, 0])[1]),
      Number((s.bands[key2] || [0, 0])[1])) * 1.15 || 1;
    const layout = {
      ...baseLayout(c), showlegend: false, shapes,
      xaxis: { domain: [0, 0.45], title: { text: "BTC" } },
      xaxis2: { domain: [0.55, 1], title: { text: "USDT" } },
      yaxis: { range: [0, top(btc, "mm_BTC", "hedge_BTC")], gridcolor: c.line },
      yaxis2: { anchor: "x2", range: [0, top(usdt, "mm_USDT", "hedge_USDT")], gridcolor: c.line },
      margin: { l: 55, r: 10, t: 20, b: 40 },
    };
    Plotly.react("bars", traces, layout, { displayModeBar: false, responsive: true });
  }

  function seriesTraces(series, c) {
    const t = series.t.map(Number);
    return [
      { type: "scatter", mode: "lines", name: "exposure (BTC)", x: t, y: series.exposure.map(Number),
        line: { color: c.bad, width: 2, shape: "hv" } },
      { type: "scatter", mode: "lines", name: "MM BTC vs start (%)", x: t, y: series.skew_mm.map(Number),
        yaxis: "y2", line: { color: c.mm, shape: "hv" } },
      { type: "scatter", mode: "lines", name: "hedge BTC vs start (%)", x: t, y: series.skew_hedge.map(Number),
        yaxis: "y2", line: { color: c.hedge, shape: "hv" } },
    ];
  }

  function drawLines(s) {
    const c = colors();
    if (s.reset_series) {
      // Two panes on one time axis: exposure above, each account's BTC against its start below.
      const layout = {
        ...baseLayout(c),
        margin: { l: 60, r: 15, t: 30, b: 40 },
        xaxis: { title: { text: "simulated seconds" }, gridcolor: c.line, anchor: "y2" },
        yaxis: { title: { text: "exposure, BTC" }, domain: [0.56, 1], gridcolor: c.line,
          zerolinecolor: c.fg, tickformat: ".4~f" },
        yaxis2: { title: { text: "skew, %" }, domain: [0, 0.44], gridcolor: c.line, zerolinecolor: c.fg },
      };
      Plotly.react("lines", seriesTraces(s.series, c), layout, { displayModeBar: false, responsive: true });
    } else if (s.series.t.length) {
      const t = s.series.t.map(Number);
      Plotly.extendTraces("lines", {
        x: [t, t, t],
        y: [s.series.exposure.map(Number), s.series.skew_mm.map(Number), s.series.skew_hedge.map(Number)],
      }, [0, 1, 2], MAX_POINTS);
    }
    seriesCount = s.series_count;
  }

  function update(s) {
    panel.innerHTML = s.panel;
    share.href = s.share;
    root.dataset.second = s.second;
    root.dataset.suggestion = s.suggestion ? "yes" : "no";
    if (window.Plotly) {
      drawBars(s);
      drawLines(s);
    }
    root.dispatchEvent(new CustomEvent("demo:updated"));
  }

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  async function post(data) {
    data.append("since", String(seriesCount));
    const response = await fetch(actUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf },
    });
    let body = {};
    try { body = await response.json(); } catch (e) { body = { error: `the server answered ${response.status}` }; }
    if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
    return body;
  }

  async function send(data) {
    if (busy) return false;
    busy = true;
    try {
      update(await post(data));
      showError("");
      return true;
    } catch (err) {
      showError(err.message);
      return false;
    } finally {
      busy = false;
    }
  }

  // Forms post through fetch; the button pressed names the action (or the shock's size).
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-demo-form]");
    if (!form) return;
    event.preventDefault();
    send(new FormData(form, event.submitter));
  });

  document.querySelectorAll(".preset").forEach((button) =>
    button.addEventListener("click", () => { document.getElementById("trade-size").value = button.dataset.size; }));

  const playButton = document.getElementById("play");
  const speed = document.getElementById("speed");
  function setPlaying(on) {
    playing = on;
    playButton.textContent = on ? "Pause" : "Play";
    playButton.setAttribute("aria-pressed", on ? "true" : "false");
    if (on) loop();
  }
  async function loop() {
    while (playing) {
      const data = new FormData();
      data.append("action", "play");
      data.append("seconds", speed.value);
      const ok = busy ? true : await send(data);
      if (!ok) { setPlaying(false); break; }
      await new Promise((resolve) => setTimeout(resolve, 350));
    }
  }
  playButton.addEventListener("click", () => setPlaying(!playing));

  document.getElementById("copy-share").addEventListener("click", () => {
    if (navigator.clipboard) navigator.clipboard.writeText(share.href);
  });

  function start() {
    const initial = JSON.parse(document.getElementById("demo-initial").textContent);
    update(initial);
  }
  if (window.Plotly) start();
  else window.addEventListener("load", start);
})();
