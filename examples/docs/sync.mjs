// A sync loop: read the change feed from where you stopped until it says there is no more, remember the
// cursor, and poll again later (here: once). A full client that keeps a SQLite mirror: examples/sync_client.py.
import { readFile, writeFile } from "node:fs/promises";

const API = process.env.OPENDATA_API ?? "http://127.0.0.1:8000";

let cursor = (await readFile(".sync-cursor", "utf8").catch(() => "")).trim();
const copy = new Map(); // "resource/key" -> record: your copy of the data
let changes = 0;
for (;;) {
  const url = new URL(`${API}/api/v1/changes/`);
  url.searchParams.set("page_size", "500");
  if (cursor) url.searchParams.set("after", cursor);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  const page = await response.json();
  for (const change of page.results) {
    copy.set(`${change.resource}/${change.key}`, change.after); // a deletion's `after` has deleted_at set
    changes += 1;
  }
  if (page.next_cursor) {
    cursor = page.next_cursor;
    await writeFile(".sync-cursor", cursor);
  }
  if (!page.more) break;
}
const live = [...copy.values()].filter((record) => record && !record.deleted_at).length;
console.log(`${changes} changes applied, ${live} live records; next poll resumes after ${cursor}`);
