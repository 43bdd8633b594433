// node breaking.mjs BEFORE.json AFTER.json: lists the changes api-smart-diff classifies as breaking
// for clients of the API (exit 1 when there are any), and counts the others.
import { readFileSync } from "node:fs";
import { apiDiff } from "api-smart-diff";

const [before, after] = process.argv.slice(2).map((path) => JSON.parse(readFileSync(path, "utf8")));
const diffs = apiDiff(before, after);
const counts = {};
for (const diff of diffs) counts[diff.type] = (counts[diff.type] ?? 0) + 1;
const breaking = diffs.filter((diff) => diff.type === "breaking");
for (const diff of breaking) {
  const where = diff.path.map(String).join(" > ");
  const value = (v) => (v === undefined ? "-" : JSON.stringify(v).slice(0, 120));
  console.log(`breaking: ${diff.action} at ${where}: ${value(diff.before)} -> ${value(diff.after)}`);
}
console.log(`api-smart-diff: ${JSON.stringify(counts)}`);
process.exit(breaking.length ? 1 : 0);
