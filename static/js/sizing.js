// The sizing page: the websocket moves each run's progress bar; when a run ends, its market's
// card fetches itself again (htmx) with the answer, and the histograms are drawn with Plotly.
"use strict";

(function () {
  const root = document.getElementById("sizing");
  const live = document.getElementById("live");
  const fetched = new Set(); // runs whose card was fetched because this page had not seen them

  function color(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function bars(hist) {
    const x = [], width = [];
    for (let i = 0; i < hist.counts.length; i++) {
      x.push((hist.edges[i] + hist.edges[i + 1]) / 2);
      width.push(hist.edges[i + 1] - hist.edges[i]);
    }
    return { x, width, y: hist.counts };
  }

  function draw(chart) {
    if (!window.Plotly) return;
    const data = JSON.parse(document.getElementById(chart.dataset.hist).textContent);
    const layout = {
      margin: { l: 50, r: 10, t: 50, b: 45 },
      bargap: 0.05,
      showlegend: false,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: color("--fg"), size: 12 },
      yaxis: { title: { text: "paths" }, rangemode: "tozero", gridcolor: color("--line") },
    };
    let traces;
    if (chart.dataset.kind === "days") {
      const hist = data.days_to_dry, horizon = Number(chart.dataset.horizon);
      const b = bars(hist);
      const step = b.width[0] || horizon / 50;
      traces = [
        { type: "bar", name: "rebalance needed", ...b, marker: { color: color("--warn") },
          hovertemplate: "day %{x:.2f}: %{y} paths<extra></extra>" },
        { type: "bar", name: `none within ${horizon} days`, x: [horizon + 3 * step], y: [hist.not_finite],
          width: [4 * step], marker: { color: color("--good") },
          hovertemplate: `no rebalance within ${horizon} days: %{y} paths<extra></extra>` },
      ];
      // Two short lines: one long line is wider than a half-width chart and is clipped.
      layout.title = { text: "Days until the first rebalance<br>(green: none within the horizon)", font: { size: 13 } };
      layout.xaxis = { title: { text: "days" }, gridcolor: color("--line") };
    } else {
      traces = [{ type: "bar", name: "edge", ...bars(data.edge), marker: { color: color("--accent") },
                  hovertemplate: "%{x:,.0f}: %{y} paths<extra></extra>" }];
      layout.title = { text: "Edge earned until the first<br>rebalance or the horizon", font: { size: 13 } };
      layout.xaxis = { title: { text: `edge (${chart.dataset.quote})` }, gridcolor: color("--line") };
    }
    Plotly.react(chart, traces, layout, { displayModeBar: false, responsive: true });
    chart.dataset.drawn = "true";
  }

  function drawIn(element) {
    element.querySelectorAll(".sizing-chart").forEach(draw);
  }

  function refreshCard(market, run) {
    const card = document.getElementById(`sizing-${market}`);
    if (!card) return;
    htmx.ajax("GET", `/sizing/runs/${run}/`, { target: card, swap: "outerHTML" });
  }

  function onMessage(event) {
    const m = JSON.parse(event.data);
    if (!m.run) return;
    const bar = document.querySelector(`.sizing-progress[data-run="${m.run}"]`);
    if (m.state === "done" || m.state === "failed") {
      refreshCard(m.market, m.run);
      return;
    }
    if (!bar) {
      // Someone else's run (or one started before this page loaded): show it once.
      if (!fetched.has(m.run)) {
        fetched.add(m.run);
        refreshCard(m.market, m.run);
      }
      return;
    }
    bar.querySelector("progress").value = m.progress;
    bar.querySelector(".pct").textContent = `${Math.round(m.progress * 100)}%`;
    bar.querySelector(".run-state").textContent = m.state;
    bar.dataset.updates = String(Number(bar.dataset.updates || 0) + 1);
  }


  // htmx calls this for the page at load and for every card it swaps in; Plotly may arrive
  // after this script (both deferred, Plotly first), so draw once the document is parsed.
  htmx.onLoad(drawIn);
  window.addEventListener("load", () => drawIn(document));
  // The theme toggle changes the palette the bars were drawn in: draw them again.
  new MutationObserver(() => drawIn(document)).observe(document.documentElement, {
    attributes: true, attributeFilter: ["data-theme"],
  });
  window.liveSocket(root.dataset.ws, live, onMessage);
})();
