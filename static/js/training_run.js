// Live training curves: fetch new metric rows whenever the polled progress card is swapped in; the log follows.
(function () {
  "use strict";
  const CHARTS = { loss: "chart-loss", margins: "chart-margins", accuracy: "chart-accuracy" };
  let lastStep = 0;
  let charts = {};
  let busy = false;

  function makeChart(canvas) {
    return new Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          { label: "train", data: [], borderColor: "#3451d1", pointRadius: 2, borderWidth: 1.5 },
          { label: "eval", data: [], borderColor: "#c27c0e", pointRadius: 3, showLine: true, spanGaps: true },
        ],
      },
      options: {
        animation: false,
        parsing: false,
        scales: { x: { type: "linear", title: { display: true, text: "step" } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  async function refresh(root) {
    if (busy) return;
    busy = true;
    try {
      const response = await fetch(`${root.dataset.metricsUrl}?after=${lastStep}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      data.steps.forEach((step, i) => {
        for (const [name, chart] of Object.entries(charts)) {
          const series = data.series[name];
          if (series.train[i] !== null) chart.data.datasets[0].data.push({ x: step, y: series.train[i] });
          if (series.eval[i] !== null) chart.data.datasets[1].data.push({ x: step, y: series.eval[i] });
        }
        lastStep = Math.max(lastStep, step);
      });
      if (data.steps.length) Object.values(charts).forEach((chart) => chart.update());
    } finally {
      busy = false;
    }
  }

  // The report's reward histogram, when the engine provides one: {"edges": [n+1], "<series>": [n counts], ...}.
  function drawDistribution() {
    const source = document.getElementById("reward-distribution");
    const canvas = document.getElementById("chart-distribution");
    if (!source || !canvas) return;
    const data = JSON.parse(source.textContent);
    const labels = data.edges.slice(0, -1).map((edge, i) => ((edge + data.edges[i + 1]) / 2).toFixed(3));
    const colours = ["#3451d1", "#c0392b", "#1f8a4c", "#c27c0e"];
    const datasets = Object.keys(data)
      .filter((key) => key !== "edges")
      .map((key, i) => ({ label: key, data: data[key], backgroundColor: colours[i % colours.length] + "99" }));
    new Chart(canvas, { type: "bar", data: { labels, datasets }, options: { animation: false } });
  }

  // The log follows its newest line, unless the reader scrolled up (or folded it) before the card was swapped.
  let logFollows = true;
  let logOpen = null;
  function logPre() {
    return document.querySelector("#run-log pre");
  }
  function rememberLog() {
    const pre = logPre();
    if (!pre) return;
    logFollows = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8;
    logOpen = pre.parentElement.open;
  }
  function followLog() {
    const pre = logPre();
    if (!pre) return;
    if (logOpen !== null) pre.parentElement.open = logOpen;
    if (logFollows) pre.scrollTop = pre.scrollHeight;
  }

  document.addEventListener("DOMContentLoaded", () => {
    followLog();
    document.body.addEventListener("htmx:beforeSwap", (event) => {
      if (event.target && event.target.id === "run-progress") rememberLog();
    });
    document.body.addEventListener("htmx:afterSettle", (event) => {
      if (event.target && event.target.id === "run-progress") followLog();
    });
  });

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof Chart !== "undefined") drawDistribution();
    const root = document.getElementById("run-charts");
    if (!root || typeof Chart === "undefined") return;
    for (const [name, id] of Object.entries(CHARTS)) charts[name] = makeChart(document.getElementById(id));
    refresh(root);
    document.body.addEventListener("htmx:afterSettle", (event) => {
      if (event.target && event.target.id === "run-progress") refresh(root);
    });
  });
})();
