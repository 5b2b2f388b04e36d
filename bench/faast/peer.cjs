// faast.js peer benchmark (local mode: child processes on this machine), printing one JSON line
// on stdout. Usage: node bench/faast/peer.cjs <faastjs prefix> [--calls 1000] [--big 10000] [--roundtrips 50]
// Each figure mirrors bench/core.mjs: one untimed warm-up call first; map = all calls issued
// at once and awaited; round trip = one call awaited, R times, median.
"use strict";
const path = require("node:path");

const [prefix, ...rest] = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = rest.indexOf(name);
  return i >= 0 ? Number(rest[i + 1]) : fallback;
};
const { faast } = require(path.join(prefix, "node_modules", "faastjs"));
const funcs = require("./functions.cjs");

async function timedMap(m, n) {
  const t0 = performance.now();
  const out = await Promise.all(Array.from({ length: n }, (_, i) => m.functions.noop(i)));
  const wallS = (performance.now() - t0) / 1000;
  if (out.length !== n || out[n - 1] !== n - 1) throw new Error("wrong results");
  return wallS;
}

async function main() {
  const version = require(path.join(prefix, "node_modules", "faastjs", "package.json")).version;
  const m = await faast("local", funcs, { gc: "off" });
  try {
    await m.functions.noop(0);
    const map1000S = await timedMap(m, flag("--calls", 1000));
    const bigCalls = flag("--big", 10000);
    const bigS = await timedMap(m, bigCalls);
    const times = [];
    for (let i = 0; i < flag("--roundtrips", 50); i++) {
      const t0 = performance.now();
      await m.functions.noop(3);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const concurrency = m.options?.concurrency;
    console.log(JSON.stringify({ faastjs_version: version, concurrency, map_1000_s: map1000S, big_calls: bigCalls, big_map_s: bigS, roundtrip_median_ms: times[Math.floor(times.length / 2)], roundtrip_p90_ms: times[Math.floor(times.length * 0.9)] }));
  } finally {
    await m.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
