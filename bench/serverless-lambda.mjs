// The Lambda column of `npm run bench:serverless`: the aws_lambda backend against the project's
// Lambda platform (moto + the router in front of RIE pools, on 127.0.0.1, in a worker thread of
// this process), no-op functions, localhost storage, the real @aws-sdk/client-lambda:
// 1. invocations per second through the router: 5000-call maps timed until every Event
//    invocation was accepted (202, counted by the router), with the router holding the events
//    (the client's own rate, goal >= 1500/s), then with the calls running on the same 2 cores;
// 2. the remote invoker's submit time for 1000 vs 10,000 calls (and 100,000 with `big`; goal: flat);
// 3. a 1000-call no-op map end to end (map + getResult).
// Every figure is the median of 3 runs. Alone: `node bench/serverless-lambda.mjs [--lambda-100k]`.
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { randomBytes } from "node:crypto";
import { functionExecutor } from "tswren";
import { startPlatformThread } from "./platform-thread.mjs";
import { median, noop, range, remoteSubmit, submitRate } from "./serverless-common.mjs";

/** A fresh signing key for this run (the functions are deployed with it). */
const generateSigningKey = () => randomBytes(32).toString("base64url");

const here = path.dirname(fileURLToPath(import.meta.url));
const runtimeDir = path.join(here, "../kernel-lib/dist/runtime");

/** Bundle the platform next to test/services (its scripts are found relative to the module). */
async function bundlePlatform() {
  const outfile = path.join(here, "../test/services", `.bench-lambda-${process.pid}.mjs`);
  await build({ entryPoints: [path.join(here, "../test/emulators/lambda/index.ts")], outfile, bundle: true, platform: "node", format: "esm", packages: "external", logLevel: "error" });
  return { url: pathToFileURL(outfile).href, dispose: () => rmSync(outfile, { force: true }) };
}

async function remoteFigures(fx, big) {
  const sizes = big ? [1000, 10_000, 100_000] : [1000, 10_000];
  const runs = Object.fromEntries(sizes.map((n) => [n, []]));
  await remoteSubmit(fx, 1000); // warm-up
  for (let r = 0; r < 3; r++) for (const n of sizes) runs[n].push(await remoteSubmit(fx, n));
  const summary = (n) => ({ calls: n, reps: 3, submitSeconds: median(runs[n].map((x) => x.submitSeconds)), mapSeconds: median(runs[n].map((x) => x.mapSeconds)), endToEndSeconds: median(runs[n].map((x) => x.endToEndSeconds)) });
  return { small: summary(1000), large: summary(10_000), ...(big ? { huge: summary(100_000) } : {}) };
}

/**
 * Run the Lambda figures.
 * @param options - `big`: also the 100,000-call remote-invoker runs
 * @returns lines to print and the JSON summary
 */
export async function lambdaFigures(options = {}) {
  const bundle = await bundlePlatform();
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID ??= "bench";
  process.env.AWS_SECRET_ACCESS_KEY ??= "bench";
  const storageRoot = mkdtempSync(path.join(tmpdir(), "tswren-bench-lambda-"));
  // Network runtimes accept localhost storage only inside the folder their environment allows.
  const platform = await startPlatformThread(bundle.url, "startLambdaPlatform", { slots: 4, bootstrap: ["node", path.join(runtimeDir, "aws-lambda-ric.mjs")], env: { TSWREN_LOCALHOST_STORAGE_ROOT: storageRoot } });
  const fx = functionExecutor({
    backend: "aws_lambda",
    dataCleaner: false,
    config: {
      localhost_storage: { storage_root: storageRoot },
      aws_lambda: { endpoint: platform.info.endpoint, region: platform.info.region, create_role: true, invoke_pool_threads: 64, runtime_timeout: 300, signing_key: generateSigningKey() },
    },
  });
  const lines = [];
  const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
  try {
    await fx.callAsync(noop, 0);
    await fx.getResult();
    const router = { hold: (on) => platform.set("router.holdEvents", on), accepted: () => platform.get("router.stats.accepted") };
    const held = await submitRate(fx, router, 5000, true);
    lines.push(`Lambda client submit rate through the router, 5000 calls (Event invocations accepted with 202, not run), median of 3: ${held.perSecond.toFixed(0)} invocations/s [${held.runs.map((x) => x.toFixed(0)).join(", ")}] (goal >= 1500/s)`);
    const running = await submitRate(fx, router, 5000, false);
    lines.push(`Lambda client submit rate through the router, 5000 calls (running on the same 2 cores), median of 3: ${running.perSecond.toFixed(0)} invocations/s [${running.runs.map((x) => x.toFixed(0)).join(", ")}]`);
    const remote = await remoteFigures(fx, options.big === true);
    lines.push(`Lambda remote invoker, submit (created job handed to Lambda), median of 3: 1000 calls ${ms(remote.small.submitSeconds)}, 10,000 calls ${ms(remote.large.submitSeconds)}${remote.huge !== undefined ? `, 100,000 calls ${ms(remote.huge.submitSeconds)} (all results in ${remote.huge.endToEndSeconds.toFixed(1)} s)` : ""}`);
    const e2e = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const thousand = await fx.map(noop, range(1000));
      await fx.getResult(thousand, { timeout: 900 });
      e2e.push((performance.now() - t0) / 1000);
    }
    lines.push(`Lambda 1000-call no-op map end to end (4 RIE slots), median of 3: ${median(e2e).toFixed(2)} s`);
    return { lines, summary: { submitHeld: held, submitRunning: running, remote, mapSeconds1000: median(e2e) } };
  } finally {
    await fx.close();
    await platform.stop();
    bundle.dispose();
    rmSync(storageRoot, { recursive: true, force: true });
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { lines, summary } = await lambdaFigures({ big: process.argv.includes("--lambda-100k") });
  for (const line of lines) console.log(line);
  console.log(JSON.stringify(summary));
}
