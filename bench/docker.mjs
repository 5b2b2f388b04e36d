// The docker column of `npm run bench`: the docker backend (2 containers, the private dockerd of
// test/services/docker.sh and its test image) next to the localhost backend (2 worker processes)
// in the same process: the 1000-call no-op map once the containers are warm (goal: within 3x
// localhost), the callAsync round trip (median of 30), and container start per slot (the first
// map on fresh containers minus a warm map of the same size, per container).
// Usage: node bench/docker.mjs; prints lines, then one JSON line.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { dockerExecutor, functionExecutor } from "tswren";

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, "../test/services/docker.sh");
const runtimeDir = path.join(here, "../kernel-lib/dist/runtime");
const WORKERS = 2;
const noop = (x) => x;
const range = (n) => Array.from({ length: n }, (_, i) => i);

/** Start (or reuse) the private engine and the test image; `stop` only stops what this run started. */
function engine() {
  const start = spawnSync("bash", [script, "start"], { encoding: "utf8", timeout: 600_000 });
  if (start.status !== 0) return { skipped: `dockerd could not be started: ${(start.stderr || start.stdout).trim().split("\n").at(-1)}` };
  const dockerHost = /export DOCKER_HOST=(\S+)/.exec(start.stdout)?.[1];
  const started = !start.stderr.includes("already running");
  const image = execFileSync("bash", [script, "image", runtimeDir], { encoding: "utf8", timeout: 600_000 }).trim();
  return { dockerHost, image, stop: () => (started ? spawnSync("bash", [script, "stop"], { timeout: 60_000 }) : undefined) };
}

async function timedMap(fx, n) {
  const t0 = performance.now();
  const results = await fx.getResult(await fx.map(noop, range(n)));
  if (results.length !== n || results[n - 1] !== n - 1) throw new Error("wrong results");
  return (performance.now() - t0) / 1000;
}

async function roundTripMs(fx, samples = 30) {
  const times = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await fx.callAsync(noop, i);
    await fx.getResult();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(samples / 2)];
}

/** The figures of one executor: cold first map (fresh slots), warm map of the same size, 1000-call map, round trip. */
async function figures(fx) {
  try {
    const coldS = await timedMap(fx, WORKERS);
    const warmS = await timedMap(fx, WORKERS);
    const map1000S = await timedMap(fx, 1000);
    return { coldS, warmS, map1000S, roundTripMs: await roundTripMs(fx) };
  } finally {
    await fx.close();
  }
}

const e = engine();
if (e.skipped !== undefined) {
  console.log(`docker: not measured (${e.skipped})`);
  console.log(JSON.stringify({ skipped: e.skipped }));
} else {
  const root = mkdtempSync(path.join(tmpdir(), "tswren-bench-docker-"));
  const storage = { localhost_storage: { storage_root: root } };
  try {
    const local = await figures(functionExecutor({ dataCleaner: false, config: { ...storage, localhost: { worker_processes: WORKERS } } }));
    const docker = await figures(dockerExecutor({ runtime: e.image, workers: WORKERS, dataCleaner: false, config: { ...storage, docker: { docker_host: e.dockerHost } } }));
    // The slots start their containers in parallel: the difference is one container's start.
    const startPerSlotMs = (docker.coldS - docker.warmS) * 1000;
    const f = (x, d = 3) => x.toFixed(d);
    console.log(`docker    1000-call no-op map (${WORKERS} warm containers)   ${f(docker.map1000S)} s  vs localhost (${WORKERS} processes) ${f(local.map1000S)} s -> ${f(docker.map1000S / local.map1000S, 1)}x (goal <= 3x)`);
    console.log(`docker    callAsync round trip (median/30)        ${f(docker.roundTripMs, 2)} ms vs localhost ${f(local.roundTripMs, 2)} ms`);
    console.log(`docker    container start per slot (cold - warm first map of ${WORKERS})  ${f(startPerSlotMs, 0)} ms`);
    console.log(JSON.stringify({ docker: { ...docker, startPerSlotMs }, localhost: local }));
  } finally {
    rmSync(root, { recursive: true, force: true });
    e.stop();
  }
}
