// Compare runs: one line per run on each chart (train solid, eval dashed), from the page's JSON.
(function () {
  "use strict";
  const CHARTS = { loss: "compare-loss", margins: "compare-margins", accuracy: "compare-accuracy" };
  const COLOURS = ["#3451d1", "#c0392b", "#1f8a4c", "#c27c0e", "#7d3cb5", "#0e8a8a", "#b5487d", "#5a6270"];

  function points(steps, values) {
    return steps.map((step, i) => ({ x: step, y: values[i] })).filter((point) => point.y !== null);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const source = document.getElementById("compare-series");
    if (!source || typeof Chart === "undefined") return;
    const runs = JSON.parse(source.textContent);
    for (const [name, id] of Object.entries(CHARTS)) {
      const datasets = [];
      runs.forEach((run, i) => {
        const colour = COLOURS[i % COLOURS.length];
        const series = run.series[name];
        datasets.push({ label: run.label, data: points(run.steps, series.train), borderColor: colour, pointRadius: 1 });
        const evals = points(run.steps, series.eval);
        if (evals.length)
          datasets.push({ label: `${run.label} eval`, data: evals, borderColor: colour, borderDash: [5, 4], pointRadius: 3 });
      });
      new Chart(document.getElementById(id), {
        type: "line",
        data: { datasets },
        options: {
          animation: false,
          parsing: false,
          scales: { x: { type: "linear", title: { display: true, text: "step" } } },
          plugins: { legend: { position: "bottom" } },
        },
      });
    }
    document.getElementById("compare-charts").dataset.drawn = "true";
  });
})();
