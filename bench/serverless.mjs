// `npm run bench:serverless`: client-side figures of the OpenWhisk backend against the project's
// OpenWhisk REST emulator (started here, on 127.0.0.1), with no-op functions:
// 1. invocations submitted per second for 5000 calls (goal >= 1000/s on 2 cores), measured with
//    the emulator accepting activations without running them (the client's own rate: on a real
//    platform the activations run elsewhere), and again with them running on this machine;
// 2. the client's submit time with the remote invoker for 1000 vs 10,000 calls (goal: within 20%);
// then the same for AWS Lambda (bench/serverless-lambda.mjs: moto + router + RIE pools).
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { functionExecutor } from "tswren";
import { lambdaFigures } from "./serverless-lambda.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const runtimeDir = path.join(here, "../kernel-lib/dist/runtime");

async function loadEmulator() {
  const dir = mkdtempSync(path.join(here, "../test/emulators/openwhisk/.bench-"));
  const outfile = path.join(dir, "emulator.mjs");
  await build({ entryPoints: [path.join(here, "../test/emulators/openwhisk/index.ts")], outfile, bundle: true, platform: "node", format: "esm", packages: "external", logLevel: "error" });
  const mod = await import(pathToFileURL(outfile).href);
  return { start: mod.startOpenWhiskEmulator, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

const emulator = await loadEmulator();
const storageRoot = mkdtempSync(path.join(tmpdir(), "tswren-bench-ow-"));
const ow = await emulator.start({ invocationsPerMinute: Infinity, concurrentLimit: 100_000, maxContainers: 4, proxyPath: path.join(runtimeDir, "action-proxy.mjs") });
const fx = functionExecutor({
  backend: "openwhisk",
  dataCleaner: false,
  config: {
    localhost_storage: { storage_root: storageRoot },
    openwhisk: { endpoint: ow.apihost, namespace: ow.namespace, api_key: ow.apiKey, invoke_pool_threads: 64, runtime_memory: 256 },
  },
});
const noop = (x) => x;
const range = (n) => Array.from({ length: n }, (_, i) => i);

async function submitRate(n, hold) {
  ow.setFaults(hold ? { neverFinishRate: 1, seed: 1 } : {});
  const t0 = performance.now();
  const futures = await fx.map(noop, range(n), { timeout: 600 });
  const seconds = (performance.now() - t0) / 1000;
  ow.setFaults({});
  if (!hold) await fx.getResult(futures);
  return { calls: n, seconds, perSecond: n / seconds };
}

async function remoteSubmit(n) {
  const items = range(n);
  const t0 = Date.now();
  const futures = await fx.map(noop, items, { remoteInvoker: true });
  const returned = Date.now();
  const results = await fx.getResult(futures, { timeout: 600 });
  if (results.length !== n || results[n - 1] !== n - 1) throw new Error("wrong results");
  // Phases from the futures' stats: job creation (capture, serialize inputs, upload) ends at
  // hostSubmitMs; submitting is handing the created job to the platform.
  const { hostSubmitMs } = futures[0].stats;
  return { calls: n, mapSeconds: (returned - t0) / 1000, createSeconds: (hostSubmitMs - t0) / 1000, submitSeconds: (returned - hostSubmitMs) / 1000 };
}

try {
  await fx.callAsync(noop, 0);
  await fx.getResult();
  const held = await submitRate(5000, true);
  console.log(`OpenWhisk client submit rate, 5000 calls (activations accepted, not run): ${held.perSecond.toFixed(0)} invocations/s (goal >= 1000/s)`);
  const running = await submitRate(5000, false);
  console.log(`OpenWhisk client submit rate, 5000 calls (activations running on the same 2 cores): ${running.perSecond.toFixed(0)} invocations/s`);
  // Timestamps are whole milliseconds: the mean over repetitions resolves below that (the
  // slowest fifth is left out: garbage collections of the previous repetitions' futures and of
  // the emulator's activation records). The sizes alternate, so both see the same heap.
  const REPS = 20;
  const runs = { 1000: [], 10000: [] };
  await remoteSubmit(1000); // warm-up
  await remoteSubmit(10_000);
  // A pause before each run lets the previous job's trailing work in this process (the
  // emulator's bookkeeping, its containers' last replies) end before the clock starts.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  for (let r = 0; r < REPS; r++) {
    for (const n of [1000, 10_000]) {
      await settle();
      runs[n].push(await remoteSubmit(n));
    }
  }
  const summary = (n) => {
    const list = runs[n];
    const kept = [...list].sort((a, b) => a.submitSeconds - b.submitSeconds).slice(0, Math.ceil(REPS * 0.8));
    const avg = (k, l) => l.reduce((sum, x) => sum + x[k], 0) / l.length;
    return { calls: n, reps: REPS, mapSeconds: avg("mapSeconds", list), createSeconds: avg("createSeconds", list), submitSeconds: avg("submitSeconds", kept) };
  };
  const small = summary(1000);
  const large = summary(10_000);
  const ratio = large.submitSeconds / small.submitSeconds;
  const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
  console.log(`remote invoker, submit (created job handed to the platform), trimmed mean of 20 (sizes alternating): 1000 calls ${ms(small.submitSeconds)}, 10,000 calls ${ms(large.submitSeconds)} (ratio ${ratio.toFixed(2)}; goal within 20%)`);
  console.log(`remote invoker, whole map() call incl. job creation: 1000 calls ${ms(small.mapSeconds)} (create ${ms(small.createSeconds)}), 10,000 calls ${ms(large.mapSeconds)} (create ${ms(large.createSeconds)})`);
  console.log(JSON.stringify({ submitHeld: held, submitRunning: running, remote: { small, large, ratio } }));
} finally {
  await fx.close();
  await ow.stop();
  emulator.dispose();
  rmSync(storageRoot, { recursive: true, force: true });
}

// The Lambda column: the same figures for the aws_lambda backend (moto + router + RIE pools), after
// the OpenWhisk emulator stopped.
const lambda = await lambdaFigures();
for (const line of lambda.lines) console.log(line);
console.log(JSON.stringify({ lambda: lambda.summary }));
