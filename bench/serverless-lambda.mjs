// The Lambda column of `npm run bench:serverless`: the aws_lambda backend against the project's
// Lambda platform (moto + the router in front of RIE pools, on 127.0.0.1), no-op functions,
// localhost storage:
// 1. invocations per second through the router: a 5000-call map, timed until every Event
//    invocation was accepted (202), with the router holding the events (the client's own rate,
//    goal >= 1500/s), then with the calls running on the same 2 cores meanwhile;
// 2. the remote invoker's submit time for 1000 vs 10,000 calls (goal: flat);
// 3. a 1000-call no-op map end to end (map + getResult).
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { randomBytes } from "node:crypto";
import { functionExecutor } from "tswren";

/** A fresh signing key for this run (the functions are deployed with it). */
const generateSigningKey = () => randomBytes(32).toString("base64url");

const here = path.dirname(fileURLToPath(import.meta.url));
const runtimeDir = path.join(here, "../kernel-lib/dist/runtime");

/** Bundle the platform next to test/services (its scripts are found relative to the module). */
async function loadPlatform() {
  const outfile = path.join(here, "../test/services", `.bench-lambda-${process.pid}.mjs`);
  await build({ entryPoints: [path.join(here, "../test/emulators/lambda/index.ts")], outfile, bundle: true, platform: "node", format: "esm", packages: "external", logLevel: "error" });
  const mod = await import(pathToFileURL(outfile).href);
  return { start: mod.startLambdaPlatform, dispose: () => rmSync(outfile, { force: true }) };
}

const noop = (x) => x;
const range = (n) => Array.from({ length: n }, (_, i) => i);

/**
 * Run the Lambda figures.
 * @returns lines to print and the JSON summary
 */
export async function lambdaFigures() {
  const platformModule = await loadPlatform();
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID ??= "bench";
  process.env.AWS_SECRET_ACCESS_KEY ??= "bench";
  const storageRoot = mkdtempSync(path.join(tmpdir(), "tswren-bench-lambda-"));
  // Network runtimes accept localhost storage only inside the folder their environment allows.
  const platform = await platformModule.start({ slots: 4, bootstrap: ["node", path.join(runtimeDir, "aws-lambda-ric.mjs")], env: { TSWREN_LOCALHOST_STORAGE_ROOT: storageRoot } });
  const fx = functionExecutor({
    backend: "aws_lambda",
    dataCleaner: false,
    config: {
      localhost_storage: { storage_root: storageRoot },
      aws_lambda: { endpoint: platform.endpoint, region: platform.region, create_role: true, invoke_pool_threads: 64, runtime_timeout: 300, signing_key: generateSigningKey() },
    },
  });
  const lines = [];
  try {
    await fx.callAsync(noop, 0);
    await fx.getResult();
    // 1. submit rate through the router: events held (accepted, not run), then running
    platform.router.holdEvents = true;
    let t0 = performance.now();
    await fx.map(noop, range(5000), { timeout: 600 });
    const heldRate = 5000 / ((performance.now() - t0) / 1000);
    platform.router.holdEvents = false;
    lines.push(`Lambda client submit rate through the router, 5000 calls (Event invocations accepted, not run): ${heldRate.toFixed(0)} invocations/s (goal >= 1500/s)`);
    t0 = performance.now();
    const futures = await fx.map(noop, range(5000), { timeout: 600 });
    const submitSeconds = (performance.now() - t0) / 1000;
    await fx.getResult(futures, { timeout: 900 });
    const rate = 5000 / submitSeconds;
    lines.push(`Lambda client submit rate through the router, 5000 calls (running on the same 2 cores): ${rate.toFixed(0)} invocations/s`);
    // 2. remote invoker submit time
    const remote = { 1000: [], 10000: [] };
    for (let r = 0; r < 3; r++) {
      for (const n of [1000, 10_000]) {
        const start = Date.now();
        const fs = await fx.map(noop, range(n), { remoteInvoker: true });
        const returned = Date.now();
        const { hostSubmitMs } = fs[0].stats;
        await fx.getResult(fs, { timeout: 900 });
        remote[n].push({ submitMs: returned - hostSubmitMs, mapMs: returned - start });
      }
    }
    const median = (list, k) => [...list].map((x) => x[k]).sort((a, b) => a - b)[Math.floor(list.length / 2)];
    lines.push(`Lambda remote invoker, submit (created job handed to Lambda), median of 3: 1000 calls ${median(remote[1000], "submitMs")} ms, 10,000 calls ${median(remote[10000], "submitMs")} ms`);
    // 3. 1000-call no-op map end to end
    t0 = performance.now();
    const thousand = await fx.map(noop, range(1000));
    await fx.getResult(thousand, { timeout: 900 });
    const e2e = (performance.now() - t0) / 1000;
    lines.push(`Lambda 1000-call no-op map end to end (4 RIE slots): ${e2e.toFixed(1)} s`);
    return { lines, summary: { submitHeldRate: heldRate, submitRate: rate, remote, mapSeconds1000: e2e } };
  } finally {
    await fx.close();
    await platform.stop();
    platformModule.dispose();
    rmSync(storageRoot, { recursive: true, force: true });
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { lines, summary } = await lambdaFigures();
  for (const line of lines) console.log(line);
  console.log(JSON.stringify(summary));
}
