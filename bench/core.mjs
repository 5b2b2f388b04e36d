// One tswren core benchmark in its own process, so its peak RSS is its own.
// Usage: node bench/core.mjs map|roundtrip|bigmap [n]; prints one JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { functionExecutor } from "tswren";

const [kind = "map", nArg] = process.argv.slice(2);
const root = mkdtempSync(path.join(tmpdir(), "tswren-bench-"));
const fx = functionExecutor({ dataCleaner: false, config: { localhost_storage: { storage_root: root } } });
const noop = (x) => x;

try {
  await fx.callAsync(noop, 0);
  await fx.getResult();
  if (kind === "map" || kind === "bigmap") {
    const n = Number(nArg ?? (kind === "map" ? 1000 : 100_000));
    const items = Array.from({ length: n }, (_, i) => i);
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
    const t0 = performance.now();
    const futures = await fx.map(noop, items);
    const submitted = performance.now();
    const results = await fx.getResult(futures);
    const t1 = performance.now();
    clearInterval(sampler);
    if (results.length !== n || results[n - 1] !== n - 1) throw new Error("wrong results");
    peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
    console.log(JSON.stringify({ kind, calls: n, wallS: (t1 - t0) / 1000, submitS: (submitted - t0) / 1000, peakRssMb: peakRss / 2 ** 20 }));
  } else if (kind === "roundtrip") {
    const n = Number(nArg ?? 50);
    const times = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await fx.callAsync(noop, 3);
      await fx.getResult();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ kind, samples: n, medianMs: times[Math.floor(n / 2)], p90Ms: times[Math.floor(n * 0.9)] }));
  } else {
    throw new Error(`unknown benchmark ${kind}`);
  }
} finally {
  await fx.close();
  rmSync(root, { recursive: true, force: true });
}
