// Follow a citation: from a fact to the exact characters of its source that state it.
const API = process.env.OPENDATA_API ?? "http://127.0.0.1:8000";

const facts = await (await fetch(`${API}/api/v1/indicators/grain-output/observations/?kind=actual&page_size=1`)).json();
const citation = facts.results[0].citations[0];
const text = await (await fetch(citation.text_url.split("#")[0])).text();
// offsets count Unicode characters (code points); a JS string index counts UTF-16 units, so split first
const chars = Array.from(text);
const quoteLength = Array.from(citation.quote).length;
const found = chars.slice(citation.offset, citation.offset + quoteLength).join("");
console.log(`quote:  ${citation.quote}`);
console.log(`source: ${found}`);
if (found !== citation.quote) throw new Error("the quote is not the source's text");
console.log(`the source states it at character ${citation.offset}`);
