// Export a whole collection, filters applied: CSV (with a BOM for Excel) and an Excel workbook.
import { writeFile } from "node:fs/promises";

const API = process.env.OPENDATA_API ?? "http://127.0.0.1:8000";

async function download(url, file) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  const body = Buffer.from(await response.arrayBuffer());
  await writeFile(file, body);
  return body;
}

const csv = await download(`${API}/api/v1/observations/?format=csv&bom=true&topic=agriculture`, "observations.csv");
const xlsx = await download(`${API}/api/v1/observations.xlsx?topic=agriculture`, "observations.xlsx");
const lines = csv.toString("utf8").split("\r\n").filter((line) => line !== "");
console.log(`${lines.length - 1} rows in observations.csv, ${xlsx.length} bytes in observations.xlsx`);
