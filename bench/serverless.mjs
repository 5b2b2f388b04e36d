// `npm run bench:serverless`: client-side figures of the serverless backends against the
// project's platforms on 127.0.0.1, with no-op functions, each platform in a worker thread of
// this process (its own event loop, as a real platform runs elsewhere; the 2 cores are shared):
// OpenWhisk (the REST emulator) here, AWS Lambda (moto + the router + RIE pools) in
// bench/serverless-lambda.mjs; a table at the end puts the two columns side by side.
// 1. invocations submitted per second for 5000 calls (OpenWhisk goal >= 3000/s, Lambda >= 1500/s),
//    with the platform accepting invocations without running them (the client's own rate: on a
//    real platform the functions run elsewhere), then with them running on this machine;
// 2. the client's submit time with the remote invoker for 1000, 10,000 and 100,000 calls (goal: flat);
// 3. (Lambda) a 1000-call no-op map end to end.
// Every figure is the median of 3 runs (submit times of 1000 / 10,000 calls: trimmed mean of 10).
// Flags: --no-lambda, --no-openwhisk, --no-100k (skip OpenWhisk's 100,000-call remote-invoker runs),
// --lambda-100k (add them for Lambda: the 4 RIE slots run 100,000 calls in several minutes).
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { functionExecutor } from "tswren";
import { startPlatformThread } from "./platform-thread.mjs";
import { lambdaFigures } from "./serverless-lambda.mjs";
import { median, noop, range, remoteSubmit, submitRate } from "./serverless-common.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const runtimeDir = path.join(here, "../kernel-lib/dist/runtime");
const args = process.argv.slice(2);
const ms = (s) => `${(s * 1000).toFixed(1)} ms`;

async function bundleEmulator() {
  const dir = mkdtempSync(path.join(here, "../test/emulators/openwhisk/.bench-"));
  const outfile = path.join(dir, "emulator.mjs");
  await build({ entryPoints: [path.join(here, "../test/emulators/openwhisk/index.ts")], outfile, bundle: true, platform: "node", format: "esm", packages: "external", logLevel: "error" });
  return { url: pathToFileURL(outfile).href, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Remote-invoker submit times: 1000 and 10,000 calls alternating (trimmed mean of 10), then 100,000 (median of 3). */
async function remoteFigures(fx, big) {
  const REPS = 10;
  const runs = { 1000: [], 10000: [] };
  await remoteSubmit(fx, 1000); // warm-up
  await remoteSubmit(fx, 10_000);
  // A pause before each run lets the previous job's trailing work end before the clock starts.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  for (let r = 0; r < REPS; r++) {
    for (const n of [1000, 10_000]) {
      await settle();
      runs[n].push(await remoteSubmit(fx, n));
    }
  }
  // Timestamps are whole milliseconds: the mean resolves below that (the slowest fifth is left
  // out: garbage collections of the previous runs' futures).
  const summary = (n) => {
    const list = runs[n];
    const kept = [...list].sort((a, b) => a.submitSeconds - b.submitSeconds).slice(0, Math.ceil(REPS * 0.8));
    const avg = (k, l) => l.reduce((sum, x) => sum + x[k], 0) / l.length;
    return { calls: n, reps: REPS, mapSeconds: avg("mapSeconds", list), createSeconds: avg("createSeconds", list), submitSeconds: avg("submitSeconds", kept) };
  };
  const out = { small: summary(1000), large: summary(10_000) };
  if (big) {
    const list = [];
    for (let r = 0; r < 3; r++) {
      await settle();
      list.push(await remoteSubmit(fx, 100_000));
    }
    out.huge = { calls: 100_000, reps: 3, submitSeconds: median(list.map((x) => x.submitSeconds)), mapSeconds: median(list.map((x) => x.mapSeconds)), createSeconds: median(list.map((x) => x.createSeconds)), endToEndSeconds: median(list.map((x) => x.endToEndSeconds)) };
  }
  return out;
}

async function openwhiskFigures() {
  const emulator = await bundleEmulator();
  const storageRoot = mkdtempSync(path.join(tmpdir(), "tswren-bench-ow-"));
  const ow = await startPlatformThread(emulator.url, "startOpenWhiskEmulator", { invocationsPerMinute: Infinity, concurrentLimit: 1_000_000, maxContainers: 4, proxyPath: path.join(runtimeDir, "action-proxy.mjs"), containerEnv: { TSWREN_LOCALHOST_STORAGE_ROOT: storageRoot } });
  const fx = functionExecutor({
    backend: "openwhisk",
    dataCleaner: false,
    config: {
      localhost_storage: { storage_root: storageRoot },
      openwhisk: { endpoint: ow.info.apihost, namespace: ow.info.namespace, api_key: ow.info.apiKey, invoke_pool_threads: 64, runtime_memory: 256 },
    },
  });
  const lines = [];
  try {
    await fx.callAsync(noop, 0);
    await fx.getResult();
    const platform = {
      hold: (on) => ow.call("setFaults", on ? { neverFinishRate: 1, seed: 1 } : {}),
      accepted: () => ow.get("stats.invocations"),
    };
    const held = await submitRate(fx, platform, 5000, true);
    lines.push(`OpenWhisk client submit rate, 5000 calls (activations accepted, not run), median of 3: ${held.perSecond.toFixed(0)} invocations/s [${held.runs.map((x) => x.toFixed(0)).join(", ")}] (goal >= 3000/s)`);
    const running = await submitRate(fx, platform, 5000, false);
    lines.push(`OpenWhisk client submit rate, 5000 calls (activations running on the same 2 cores), median of 3: ${running.perSecond.toFixed(0)} invocations/s [${running.runs.map((x) => x.toFixed(0)).join(", ")}]`);
    const remote = await remoteFigures(fx, !args.includes("--no-100k"));
    const { small, large, huge } = remote;
    lines.push(`OpenWhisk remote invoker, submit (created job handed to the platform), trimmed mean of 10: 1000 calls ${ms(small.submitSeconds)}, 10,000 calls ${ms(large.submitSeconds)} (ratio ${(large.submitSeconds / small.submitSeconds).toFixed(2)}; goal flat)`);
    if (huge !== undefined) lines.push(`OpenWhisk remote invoker, submit of 100,000 calls, median of 3: ${ms(huge.submitSeconds)} (ratio to 1000 calls ${(huge.submitSeconds / small.submitSeconds).toFixed(2)}); whole map() ${ms(huge.mapSeconds)} (create ${ms(huge.createSeconds)}), all 100,000 results in ${huge.endToEndSeconds.toFixed(1)} s`);
    lines.push(`OpenWhisk remote invoker, whole map() call incl. job creation: 1000 calls ${ms(small.mapSeconds)} (create ${ms(small.createSeconds)}), 10,000 calls ${ms(large.mapSeconds)} (create ${ms(large.createSeconds)})`);
    return { lines, summary: { submitHeld: held, submitRunning: running, remote } };
  } finally {
    await fx.close();
    await ow.stop();
    emulator.dispose();
    rmSync(storageRoot, { recursive: true, force: true });
  }
}

const ow = args.includes("--no-openwhisk") ? undefined : await openwhiskFigures();
for (const line of ow?.lines ?? []) console.log(line);
// The Lambda column, after the OpenWhisk emulator stopped.
const lambda = args.includes("--no-lambda") ? undefined : await lambdaFigures({ big: args.includes("--lambda-100k") });
for (const line of lambda?.lines ?? []) console.log(line);

const cell = (x, f) => (x === undefined ? "n/a" : f(x));
const rate = (x) => `${x.perSecond.toFixed(0)}/s`;
const rows = [
  ["submit rate, 5000 calls, invocations accepted not run (median of 3)", cell(ow?.summary.submitHeld, rate), cell(lambda?.summary.submitHeld, rate)],
  ["submit rate, 5000 calls, running on the same cores (median of 3)", cell(ow?.summary.submitRunning, rate), cell(lambda?.summary.submitRunning, rate)],
  ["remote invoker submit, 1000 calls", cell(ow?.summary.remote.small, (x) => ms(x.submitSeconds)), cell(lambda?.summary.remote.small, (x) => ms(x.submitSeconds))],
  ["remote invoker submit, 10,000 calls", cell(ow?.summary.remote.large, (x) => ms(x.submitSeconds)), cell(lambda?.summary.remote.large, (x) => ms(x.submitSeconds))],
  ["remote invoker submit, 100,000 calls", cell(ow?.summary.remote.huge, (x) => ms(x.submitSeconds)), cell(lambda?.summary.remote.huge, (x) => ms(x.submitSeconds))],
  ["1000-call no-op map end to end", "n/a", cell(lambda?.summary.mapSeconds1000, (x) => `${x.toFixed(2)} s`)],
];
console.log("\n| figure | OpenWhisk | AWS Lambda |\n| --- | --- | --- |");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
console.log(JSON.stringify({ openwhisk: ow?.summary, lambda: lambda?.summary }));
