// Agreement over time on the quality dashboard: Krippendorff's alpha and percent agreement per day or week.
(function () {
  const canvas = document.getElementById("agreement-chart");
  const source = document.getElementById("agreement-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        { type: "line", label: "Alpha (nominal)", data: data.alpha, yAxisID: "agreement", borderColor: "#3451d1",
          backgroundColor: "#3451d1", spanGaps: true, tension: 0.2 },
        { type: "line", label: "Percent agreement", data: data.percent, yAxisID: "agreement", borderColor: "#1f8a4c",
          backgroundColor: "#1f8a4c", spanGaps: true, tension: 0.2 },
        { type: "bar", label: "Judgments", data: data.judgments, yAxisID: "judgments", backgroundColor: "#dde1e8" },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        agreement: { position: "left", suggestedMin: 0, suggestedMax: 1, title: { display: true, text: "agreement" } },
        judgments: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
          title: { display: true, text: "judgments" } },
      },
    },
  });
})();
