// `npm run bench:monitoring`: storage-polling monitoring vs RabbitMQ monitoring, in one run, for a
// 2000-call map of 100 ms calls on the localhost backend and on the OpenWhisk emulator (started
// here, on 127.0.0.1, with the project's runtime), against a real RabbitMQ broker started here
// (test/services/rabbitmq.ts: Debian's rabbitmq-server on loopback, a per-run user and vhost).
//
// Per mode it prints: the median (and p90) time from a call's end on the worker (`workerEndMs`:
// function done, result stored) to its future resolving on the client (`hostResultDoneMs`), the
// job's wall time, and the storage requests the client made during the map (every request of the
// executor's storage client: job upload, polling, status and output reads).
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { functionExecutor } from "tswren";
import { engineOf } from "tswren/internal";

const here = path.dirname(fileURLToPath(import.meta.url));
const runtimeDir = path.join(here, "../kernel-lib/dist/runtime");
const CALLS = 2000;
const CALL_MS = 100;
/** Local worker processes, and OpenWhisk containers: the calls sleep, so more than the 2 cores. */
const LOCAL_WORKERS = 16;
const OW_CONTAINERS = 16;

/** Bundle the TypeScript test services this bench uses (next to their sources) and import them. */
async function loadServices() {
  const dir = mkdtempSync(path.join(here, "../test/emulators/openwhisk/.bench-"));
  // rabbitmq.ts finds rabbitmq.sh beside itself: its bundle goes into test/services.
  const rabbitmqBundle = path.join(here, `../test/services/.bench-rabbitmq-${process.pid}.mjs`);
  const common = { bundle: true, platform: "node", format: "esm", packages: "external", logLevel: "error" };
  await build({ ...common, entryPoints: [path.join(here, "../test/emulators/openwhisk/index.ts")], outfile: path.join(dir, "emulator.mjs") });
  await build({ ...common, entryPoints: [path.join(here, "../test/services/rabbitmq.ts")], outfile: rabbitmqBundle });
  const emulator = await import(pathToFileURL(path.join(dir, "emulator.mjs")).href);
  const rabbitmq = await import(pathToFileURL(rabbitmqBundle).href);
  const dispose = () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(rabbitmqBundle, { force: true });
  };
  return { startEmulator: emulator.startOpenWhiskEmulator, startRabbitmq: rabbitmq.startRabbitmq, dispose };
}

/** Count every request of the executor's storage client from now on. */
async function countStorageRequests(fx) {
  const { storage } = await engineOf(fx).backends();
  const counter = { requests: 0 };
  for (const method of ["put", "get", "getStream", "head", "list", "delete", "deleteMany", "bucketExists", "ensureBucket"]) {
    const original = storage[method].bind(storage);
    storage[method] = (...args) => {
      counter.requests++;
      return original(...args);
    };
  }
  return counter;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];

async function measure(fx) {
  const counter = await countStorageRequests(fx);
  await fx.map((x) => x, [0, 1, 2, 3]); // warm: workers / containers up, action deployed
  await fx.getResult();
  const items = Array.from({ length: CALLS }, (_, i) => i);
  const before = counter.requests;
  const t0 = performance.now();
  const futures = await fx.map(async (x) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return x;
  }, items);
  const results = await fx.getResult(futures, { timeout: 900 });
  const wallS = (performance.now() - t0) / 1000;
  if (results.length !== CALLS || results[CALLS - 1] !== CALLS - 1) throw new Error("wrong results");
  const lags = futures.map((f) => f.stats.hostResultDoneMs - f.stats.workerEndMs).sort((a, b) => a - b);
  return { medianEndToResolveMs: quantile(lags, 0.5), p90EndToResolveMs: quantile(lags, 0.9), wallS, storageRequests: counter.requests - before };
}

const services = await loadServices();
const roots = [];
const executors = [];
let broker;
let ow;
try {
  broker = await services.startRabbitmq();
  ow = await services.startEmulator({ invocationsPerMinute: Infinity, concurrentLimit: 100_000, maxContainers: OW_CONTAINERS, proxyPath: path.join(runtimeDir, "action-proxy.mjs") });
  const executor = (backend, monitoring) => {
    const root = mkdtempSync(path.join(tmpdir(), "tswren-bench-monitoring-"));
    roots.push(root);
    const compute = backend === "localhost"
      ? { localhost: { worker_processes: LOCAL_WORKERS } }
      : { openwhisk: { endpoint: ow.apihost, namespace: ow.namespace, api_key: ow.apiKey, invoke_pool_threads: 64, runtime_memory: 256 } };
    const fx = functionExecutor({
      backend,
      monitoring,
      dataCleaner: false,
      config: { localhost_storage: { storage_root: root }, ...compute, ...(monitoring === "rabbitmq" ? { rabbitmq: { amqp_url: broker.amqpUrl } } : {}) },
    });
    executors.push(fx);
    return fx;
  };
  const rows = [];
  for (const backend of ["localhost", "openwhisk"]) {
    for (const monitoring of ["storage", "rabbitmq"]) {
      const m = await measure(executor(backend, monitoring));
      rows.push({ backend, monitoring, ...m });
      console.log(`${backend.padEnd(9)} ${monitoring.padEnd(8)}  call end -> future resolved: median ${m.medianEndToResolveMs} ms (p90 ${m.p90EndToResolveMs} ms)  client storage requests: ${m.storageRequests}  wall ${m.wallS.toFixed(1)} s`);
    }
  }
  console.log(`(${CALLS} calls of ${CALL_MS} ms each; ${LOCAL_WORKERS} local workers, ${OW_CONTAINERS} OpenWhisk containers; storage: localhost directory)`);
  console.log(JSON.stringify({ calls: CALLS, callMs: CALL_MS, rows }));
} finally {
  for (const fx of executors) await fx.close();
  await ow?.stop();
  await broker?.stop();
  services.dispose();
  for (const root of roots) rmSync(root, { recursive: true, force: true });
}
