// Page through a collection: follow `next` until it is null (keyset cursors: never build one yourself).
const API = process.env.OPENDATA_API ?? "http://127.0.0.1:8000";

let url = `${API}/api/v1/observations/?kind=target&page_size=100`;
let total = 0;
while (url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  const page = await response.json();
  total += page.results.length;
  url = page.next;
}
console.log(`${total} target observations`);
