// `npm run bench:peers`: tswren, faast.js (npm `faastjs`, local mode) and Lithops (PyPI
// `lithops`, localhost backend, single runner) on the same work in one run, on this machine:
// a 1000-call no-op map, 50 sequential round trips (one call awaited each) and a 10,000-call map.
// Prints each figure and tswren's ratio against each peer (> 1: tswren is faster).
// The peers are installed pinned into ~/.cache/tswren-services (bench/faast/setup.sh,
// bench/lithops/setup.sh), never into the project's dependencies.
// Flags: --big N (calls of the large map, default 10000), --no-lithops, --no-faast.
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const BIG = Number(flag("--big", "10000"));

function core(kind, n) {
  const out = execFileSync(process.execPath, [path.join(here, "core.mjs"), kind, String(n)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(out.trim().split("\n").at(-1));
}

function lastJson(run) {
  return JSON.parse((run.stdout || "").trim().split("\n").at(-1));
}

function setup(script) {
  const run = spawnSync("bash", [path.join(here, script)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (run.status !== 0) return { error: (run.stderr || run.stdout).trim().split("\n").at(-1) };
  return { out: run.stdout.trim().split("\n").at(-1) };
}

function faastjs() {
  if (args.includes("--no-faast")) return { skipped: "--no-faast" };
  const s = setup("faast/setup.sh");
  if (s.error !== undefined) return { skipped: `faastjs could not be installed: ${s.error}` };
  const run = spawnSync(process.execPath, [path.join(here, "faast/peer.cjs"), s.out, "--calls", "1000", "--big", String(BIG), "--roundtrips", "50"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 900_000 });
  if (run.status !== 0) return { skipped: `faastjs run failed: ${(run.stderr || "").trim().split("\n").at(-1)}` };
  return lastJson(run);
}

function lithops() {
  if (args.includes("--no-lithops")) return { skipped: "--no-lithops" };
  const s = setup("lithops/setup.sh");
  if (s.error !== undefined) return { skipped: `lithops could not be installed: ${s.error}` };
  const peer = path.join(here, "lithops/peer.py");
  const small = spawnSync(s.out, [peer, "--calls", "1000", "--roundtrips", "50"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 900_000 });
  if (small.status !== 0) return { skipped: `lithops run failed: ${(small.stderr || "").trim().split("\n").at(-1)}` };
  const big = spawnSync(s.out, [peer, "--calls", String(BIG), "--no-roundtrip", "--timeout", "900"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 1_000_000 });
  const first = lastJson(small);
  return { version: first.lithops_version, map1000S: first.map_1000_s?.single, roundtripMs: first.roundtrip_median_s * 1000, bigMapS: big.status === 0 ? lastJson(big).map_1000_s?.single : undefined };
}

const fmt = (x, d = 3) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "n/a");
const ratio = (peer, ours) => (typeof peer === "number" && typeof ours === "number" ? `${fmt(peer / ours, 2)}x` : "n/a");

const ours = { map1000S: core("map", 1000).wallS, roundtripMs: core("roundtrip", 50).medianMs, bigMapS: core("bigmap", BIG).wallS };
const f = faastjs();
const l = lithops();
const rows = [
  ["1000-call no-op map (s)", ours.map1000S, f.map_1000_s, l.map1000S, 3],
  ["round trip, median of 50 (ms)", ours.roundtripMs, f.roundtrip_median_ms, l.roundtripMs, 2],
  [`${BIG}-call no-op map (s)`, ours.bigMapS, f.big_map_s, l.bigMapS, 2],
];
console.log(`${"figure".padEnd(32)} ${"tswren".padStart(9)} ${"faast.js".padStart(9)} ${"lithops".padStart(9)}   faast.js/tswren  lithops/tswren`);
for (const [name, t, fv, lv, d] of rows) {
  console.log(`${name.padEnd(32)} ${fmt(t, d).padStart(9)} ${fmt(fv, d).padStart(9)} ${fmt(lv, d).padStart(9)}   ${ratio(fv, t).padStart(15)}  ${ratio(lv, t).padStart(14)}`);
}
if ("skipped" in f) console.log(`faast.js: not measured (${f.skipped})`);
else console.log(`faast.js ${f.faastjs_version}, local mode, concurrency ${f.concurrency}`);
if ("skipped" in l) console.log(`lithops: not measured (${l.skipped})`);
else console.log(`lithops ${l.version}, localhost backend, single runner`);
console.log(JSON.stringify({ tswren: ours, faastjs: f, lithops: l }));
