// Localhost figures of a new process, in one run (`npm run bench:localhost`):
//   cold   the first 1000-call no-op map of this process (executor and workers created inside
//          the timing), then 5 more maps (steady state), the callAsync + getResult round trip
//          (median of 200) and close() with the data cleaner on;
//   --big N   instead: one N-call no-op map (e.g. --big 100000, --big 1000000) with peak client
//          RSS, the bytes and files the job left in storage before close(), and close() time.
// Prints one line per figure and a JSON summary last.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const args = process.argv.slice(2);
const bigIndex = args.indexOf("--big");
const big = bigIndex >= 0 ? Number(args[bigIndex + 1]) : 0;
const root = mkdtempSync(path.join(tmpdir(), "tswren-bench-local-"));
const t0 = performance.now();
const { functionExecutor } = await import("tswren");
const importMs = performance.now() - t0;
const fx = functionExecutor({ dataCleaner: true, config: { localhost_storage: { storage_root: root } } });
const noop = (x) => x;

/** Bytes and files under `dir` (the storage root), recursively. */
function diskUsage(dir) {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = diskUsage(p);
      bytes += sub.bytes;
      files += sub.files;
    } else {
      bytes += statSync(p).size;
      files++;
    }
  }
  return { bytes, files };
}

async function mapMs(n) {
  const items = Array.from({ length: n }, (_, i) => i);
  const start = performance.now();
  const results = await fx.getResult(await fx.map(noop, items));
  if (results.length !== n || results[n - 1] !== n - 1) throw new Error("wrong results");
  return performance.now() - start;
}

const summary = { importMs, load: (await import("node:os")).loadavg()[0] };
try {
  if (big > 0) {
    await mapMs(10);
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
    summary.bigMapS = (await mapMs(big)) / 1000;
    clearInterval(sampler);
    summary.peakRssMb = Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 2 ** 20;
    const du = diskUsage(root);
    summary.diskMb = du.bytes / 2 ** 20;
    summary.files = du.files;
    console.log(`${big}-call no-op map ${summary.bigMapS.toFixed(2)} s, client peak RSS ${summary.peakRssMb.toFixed(0)} MB, job data ${summary.diskMb.toFixed(1)} MB in ${du.files} files`);
  } else {
    summary.coldMapMs = (await mapMs(1000)) + 0;
    summary.steadyMapMs = [];
    for (let i = 0; i < 5; i++) summary.steadyMapMs.push(await mapMs(1000));
    const times = [];
    for (let i = 0; i < 200; i++) {
      const start = performance.now();
      await fx.getResult(await fx.callAsync(noop, i));
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    summary.roundtripMedianMs = times[100];
    summary.roundtripP90Ms = times[180];
    console.log(`first 1000-call map of the process ${summary.coldMapMs.toFixed(0)} ms; next 5: ${summary.steadyMapMs.map((m) => m.toFixed(0)).join(", ")} ms`);
    console.log(`round trip median ${summary.roundtripMedianMs.toFixed(3)} ms (p90 ${summary.roundtripP90Ms.toFixed(3)} ms)`);
  }
} finally {
  const start = performance.now();
  await fx.close();
  summary.closeMs = performance.now() - start;
  console.log(`close() with the data cleaner ${summary.closeMs.toFixed(0)} ms (load average ${summary.load.toFixed(1)})`);
  rmSync(root, { recursive: true, force: true });
}
console.log(JSON.stringify(summary));
