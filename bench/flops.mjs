// `npm run bench:flops`: PyWren's headline figure, aggregate GFLOPS. Every call multiplies two dense
// float64 matrices (N x N, REPS times, a plain ikj loop) and the map's aggregate GFLOPS is set
// against one in-process loop of the same work in this process: scaling efficiency =
// aggregate / (workers x in-process GFLOPS), goal >= 0.9 on localhost. The same bench runs on every
// backend that can start here: localhost (worker processes), docker (the private dockerd of
// test/services/docker.sh), the OpenWhisk emulator (the real action proxy) and AWS Lambda (moto +
// the router in front of RIE processes); a backend that cannot start is reported as skipped.
// Flags: --backends localhost,docker,openwhisk,aws_lambda  --n 192  --reps 24  --calls-per-worker 4
//        --workers 2
import { spawnSync, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { dockerExecutor, functionExecutor } from "tswren";

const here = path.dirname(fileURLToPath(import.meta.url));
const runtimeDir = path.join(here, "../kernel-lib/dist/runtime");
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const N = Number(flag("--n", "192"));
const REPS = Number(flag("--reps", "24"));
const WORKERS = Number(flag("--workers", "2"));
const CALLS = WORKERS * Number(flag("--calls-per-worker", "4"));
const BACKENDS = flag("--backends", "localhost,docker,openwhisk,aws_lambda").split(",");

/**
 * One call's work: `reps` products of two n x n float64 matrices (deterministic contents).
 * Self-contained so that it ships as is to every backend.
 */
function matmul(task) {
  const { n, reps, seed } = task;
  const a = new Float64Array(n * n);
  const b = new Float64Array(n * n);
  const c = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) {
    a[i] = ((i * 7 + seed) % 13) / 13;
    b[i] = ((i * 11 + seed) % 17) / 17;
  }
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) {
    c.fill(0);
    for (let i = 0; i < n; i++) {
      const row = i * n;
      for (let k = 0; k < n; k++) {
        const aik = a[row + k];
        const bk = k * n;
        for (let j = 0; j < n; j++) c[row + j] += aik * b[bk + j];
      }
    }
  }
  const ms = performance.now() - t0;
  let checksum = 0;
  for (let i = 0; i < n * n; i += n + 1) checksum += c[i];
  return { flops: 2 * n * n * n * reps, ms, checksum };
}

const tasks = (count) => Array.from({ length: count }, (_, seed) => ({ n: N, reps: REPS, seed }));

/** The in-process reference: the same calls one after another in this process (after a warm-up). */
function inProcessGflops() {
  matmul({ n: N, reps: 2, seed: 0 });
  const rates = [];
  for (let seed = 0; seed < 3; seed++) {
    const t0 = performance.now();
    const { flops } = matmul({ n: N, reps: REPS, seed });
    rates.push(flops / ((performance.now() - t0) / 1000) / 1e9);
  }
  return Math.max(...rates);
}

/** Aggregate GFLOPS of a map of CALLS calls on `fx`, after a warm-up map that starts every worker. */
async function mapGflops(fx) {
  await fx.getResult(await fx.map(matmul, tasks(WORKERS).map((t) => ({ ...t, reps: 2 })), { timeout: 600 }));
  const t0 = performance.now();
  const results = await fx.getResult(await fx.map(matmul, tasks(CALLS), { timeout: 600 }), { timeout: 900 });
  const seconds = (performance.now() - t0) / 1000;
  const expected = tasks(CALLS).map((t) => matmul({ ...t, reps: 1 }).checksum);
  results.forEach((r, i) => {
    if (Math.abs(r.checksum - expected[i]) > 1e-6 * Math.abs(expected[i])) throw new Error(`call ${i} returned a wrong product`);
  });
  const flops = results.reduce((sum, r) => sum + r.flops, 0);
  const inCallSeconds = results.reduce((sum, r) => sum + r.ms, 0) / 1000;
  return { seconds, gflops: flops / seconds / 1e9, perCallGflops: flops / inCallSeconds / 1e9 };
}

const signingKey = () => randomBytes(32).toString("base64url");

/** Each backend: start what it needs, give an executor, stop it again. */
const setups = {
  async localhost(root) {
    return { fx: functionExecutor({ dataCleaner: false, config: { localhost_storage: { storage_root: root }, localhost: { worker_processes: WORKERS } } }), stop: () => {} };
  },
  async docker(root) {
    const script = path.join(here, "../test/services/docker.sh");
    const start = spawnSync("bash", [script, "start"], { encoding: "utf8", timeout: 600_000 });
    if (start.status !== 0) throw new Error(`dockerd could not be started: ${(start.stderr || start.stdout).trim().split("\n").at(-1)}`);
    const dockerHost = /export DOCKER_HOST=(\S+)/.exec(start.stdout)?.[1];
    const started = !start.stderr.includes("already running");
    const image = execFileSync("bash", [script, "image", runtimeDir], { encoding: "utf8", timeout: 600_000 }).trim();
    const fx = dockerExecutor({ runtime: image, workers: WORKERS, runtimeMemory: 512, dataCleaner: false, config: { localhost_storage: { storage_root: root }, docker: { docker_host: dockerHost } } });
    return { fx, stop: () => (started ? spawnSync("bash", [script, "stop"], { timeout: 60_000 }) : undefined) };
  },
  async openwhisk(root) {
    const mod = await bundled("../test/emulators/openwhisk/index.ts");
    const ow = await mod.exports.startOpenWhiskEmulator({ invocationsPerMinute: Infinity, concurrentLimit: 1000, maxContainers: WORKERS, containerEnv: { TSWREN_LOCALHOST_STORAGE_ROOT: root }, proxyPath: path.join(runtimeDir, "action-proxy.mjs") });
    const fx = functionExecutor({
      backend: "openwhisk",
      dataCleaner: false,
      config: { localhost_storage: { storage_root: root }, openwhisk: { endpoint: ow.apihost, namespace: ow.namespace, api_key: ow.apiKey, runtime_memory: 512, runtime_timeout: 300, signing_key: signingKey() } },
    });
    return { fx, stop: async () => { await ow.stop(); mod.dispose(); } };
  },
  async aws_lambda(root) {
    const mod = await bundled("../test/emulators/lambda/index.ts", path.join(here, "../test/services"));
    process.env.AWS_ACCESS_KEY_ID ??= "bench";
    process.env.AWS_SECRET_ACCESS_KEY ??= "bench";
    const platform = await mod.exports.startLambdaPlatform({ slots: WORKERS, bootstrap: ["node", path.join(runtimeDir, "aws-lambda-ric.mjs")], env: { TSWREN_LOCALHOST_STORAGE_ROOT: root } });
    const fx = functionExecutor({
      backend: "aws_lambda",
      dataCleaner: false,
      config: { localhost_storage: { storage_root: root }, aws_lambda: { endpoint: platform.endpoint, region: platform.region, create_role: true, runtime_memory: 512, runtime_timeout: 600, signing_key: signingKey() } },
    });
    return { fx, stop: async () => { await platform.stop(); mod.dispose(); } };
  },
};

/** Bundle a test emulator with esbuild (its scripts are found relative to `dir`) and import it. */
async function bundled(entry, dir = path.join(here, path.dirname(entry))) {
  const outfile = path.join(dir, `.bench-flops-${process.pid}.mjs`);
  await build({ entryPoints: [path.join(here, entry)], outfile, bundle: true, platform: "node", format: "esm", packages: "external", logLevel: "error" });
  return { exports: await import(pathToFileURL(outfile).href), dispose: () => rmSync(outfile, { force: true }) };
}

async function measure(backend, reference) {
  const root = mkdtempSync(path.join(tmpdir(), `tswren-bench-flops-${backend}-`));
  let setup;
  try {
    setup = await setups[backend](root);
    const m = await mapGflops(setup.fx);
    return { backend, ...m, efficiency: m.gflops / (WORKERS * reference) };
  } catch (error) {
    return { backend, skipped: error instanceof Error ? error.message : String(error) };
  } finally {
    await setup?.fx.close();
    await setup?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const reference = inProcessGflops();
const f = (x, d = 2) => x.toFixed(d);
console.log(`in-process loop (1 core): ${f(reference, 3)} GFLOPS  (${N}x${N} float64 products, ${REPS} per call)`);
const rows = [];
for (const backend of BACKENDS) {
  if (!(backend in setups)) throw new Error(`unknown backend ${backend}: use ${Object.keys(setups).join(", ")}`);
  const row = await measure(backend, reference);
  rows.push(row);
  if (row.skipped !== undefined) console.log(`${backend.padEnd(10)} not measured (${row.skipped})`);
  else console.log(`${backend.padEnd(10)} ${CALLS} calls on ${WORKERS} workers: ${f(row.seconds)} s, aggregate ${f(row.gflops, 3)} GFLOPS (${f(row.perCallGflops, 3)} per call) -> scaling efficiency ${f(row.efficiency)} x ${WORKERS} workers (goal >= 0.9 on localhost)`);
}
console.log(JSON.stringify({ n: N, reps: REPS, workers: WORKERS, calls: CALLS, inProcessGflops: reference, backends: rows }));
