// Telemetry dashboard charts. The numbers come from the page's <script type="application/json">
// data block (json_script): nothing inline is executed, as the Content-Security-Policy requires.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const brand = "#3b5bdb", bad = "#cf222e", soft = "#91a7ff";
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';
  Chart.defaults.color = "#656d76";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;

  const draw = (id, config) => {
    const canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  };
  // One number of decimals per axis (from its largest tick), so "$0.50" sits beside "$1.00".
  const decimalsFor = (max) => (max >= 0.1 ? 2 : max >= 0.01 ? 3 : 4);
  const moneyIn = (decimals) => (value) => "$" + Number(value).toFixed(decimals);
  const moneyTick = (value, index, ticks) =>
    moneyIn(decimalsFor(Math.max(...ticks.map((t) => Math.abs(t.value)))))(value);
  const money = (value) => moneyIn(decimalsFor(Math.abs(value)))(value);
  // Latency reads the same everywhere in Claresia: seconds with one decimal, "2.3 s".
  const ms = (value) => (Number(value) / 1000).toFixed(1) + " s";

  draw("chart-volume", {
    type: "bar",
    data: {
      labels: data.volume.labels,
      datasets: [
        { label: "Invocations", data: data.volume.invocations, backgroundColor: brand, borderRadius: 3 },
        { label: "Failures", data: data.volume.failures, backgroundColor: bad, borderRadius: 3 },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { grid: { display: false }, ticks: { maxTicksLimit: data.bucket === "hour" ? 12 : 15 } },
        y: { beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  });

  draw("chart-cost", {
    type: "bar",
    data: {
      labels: data.cost.labels,
      datasets: [{ label: "Cost (USD)", data: data.cost.usd, backgroundColor: brand, borderRadius: 3 }],
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => money(c.raw) } } },
      scales: { x: { beginAtZero: true, ticks: { callback: moneyTick } }, y: { grid: { display: false } } },
    },
  });

  draw("chart-latency", {
    type: "bar",
    data: {
      labels: data.latency.labels,
      datasets: [
        { label: "p50", data: data.latency.p50, backgroundColor: soft, borderRadius: 3 },
        { label: "p95", data: data.latency.p95, backgroundColor: brand, borderRadius: 3 },
      ],
    },
    options: {
      plugins: { tooltip: { callbacks: { label: (c) => c.dataset.label + ": " + ms(c.raw) } } },
      scales: { x: { grid: { display: false } }, y: { beginAtZero: true, ticks: { callback: ms } } },
    },
  });

  draw("chart-failures", {
    type: "bar",
    data: {
      labels: data.failures.labels,
      datasets: [{ label: "Failures", data: data.failures.counts, backgroundColor: bad, borderRadius: 3 }],
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } },
    },
  });
});
