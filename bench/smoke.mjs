// CI smoke bench, run by `npm test` after the test suite: the 1000-call no-op map and the
// callAsync + getResult round trip on localhost, compared with bench/smoke-baseline.json.
// Fails (exit 1) only on a 3x regression, since CI machines are noisy; prints the figures.
// Best of 3 maps (after one warm-up map) and the median of 50 round trips, in one process.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { functionExecutor } from "tswren";

const here = path.dirname(fileURLToPath(import.meta.url));
const baseline = JSON.parse(readFileSync(path.join(here, "smoke-baseline.json"), "utf8"));
const FACTOR = 3;
const root = mkdtempSync(path.join(tmpdir(), "tswren-smoke-"));
const fx = functionExecutor({ dataCleaner: false, config: { localhost_storage: { storage_root: root } } });
const noop = (x) => x;
const items = Array.from({ length: 1000 }, (_, i) => i);

async function mapSeconds() {
  const t0 = performance.now();
  const results = await fx.getResult(await fx.map(noop, items));
  if (results.length !== 1000 || results[999] !== 999) throw new Error("wrong results");
  return (performance.now() - t0) / 1000;
}

let code = 0;
try {
  await mapSeconds();
  const maps = [await mapSeconds(), await mapSeconds(), await mapSeconds()];
  const times = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    await fx.getResult(await fx.callAsync(noop, i));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const figures = { map1000S: Math.min(...maps), roundtripMs: times[25] };
  for (const [name, value] of Object.entries(figures)) {
    const limit = baseline[name] * FACTOR;
    const ok = value <= limit;
    if (!ok) code = 1;
    console.log(`smoke bench: ${name} ${value.toFixed(3)} (baseline ${baseline[name]}, fails above ${limit.toFixed(3)}) ${ok ? "ok" : "REGRESSION"}`);
  }
} finally {
  await fx.close();
  rmSync(root, { recursive: true, force: true });
}
process.exit(code);
