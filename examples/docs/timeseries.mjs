// A time series with its targets: every observation of one indicator in period order, then each target
// beside the result of its period and whether it was met.
const API = process.env.OPENDATA_API ?? "http://127.0.0.1:8000";

async function get(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

const series = await get(`${API}/api/v1/indicators/grain-output/observations/?ordering=period_start&page_size=1000`);
for (const o of series.results) {
  console.log([o.period_label, o.kind, o.comparator, o.value, o.unit].join("\t"));
}
const indicator = await get(`${API}/api/v1/indicators/grain-output/`);
for (const t of indicator.targets) {
  const result = t.result ? t.result.value : "none yet";
  console.log(`target ${t.target.period_label} ${t.target.comparator} ${t.target.value}: result ${result}, met ${t.met}`);
}
