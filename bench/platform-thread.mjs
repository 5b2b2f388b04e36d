// A test platform (the OpenWhisk emulator, or the Lambda router with moto and its RIE pools) run
// in a worker thread of the bench process: the platform's HTTP server gets its own event loop,
// as a real platform runs on other machines, so a client figure measures the client. The main
// thread talks to it by messages: the platform's address, a few calls (setFaults, holdEvents,
// stats) and stop.
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";

/**
 * Start a platform in a worker thread.
 * @param moduleUrl - file URL of the (bundled) platform module
 * @param start - name of its start function (`startOpenWhiskEmulator`, `startLambdaPlatform`)
 * @param options - the start function's options (structured-clonable)
 * @returns the platform's fields the start function returned that are plain data (`info`),
 *   `call(name, ...args)` for its methods (dotted paths allowed), `get(path)`, `set(path, value)`, and `stop()`
 */
export async function startPlatformThread(moduleUrl, start, options) {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { moduleUrl, start, options } });
  const pending = new Map();
  let nextId = 0;
  let ready;
  const readyPromise = new Promise((resolve, reject) => {
    ready = { resolve, reject };
  });
  worker.on("message", (m) => {
    if (m.ready !== undefined) return ready.resolve(m.ready);
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.value);
  });
  // A platform thread that died fails every request, pending or later, instead of leaving it unanswered.
  let died;
  const fail = (err) => {
    died ??= err;
    ready.reject(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on("error", (err) => {
    console.error(`platform thread ${start} failed: ${err?.stack ?? err}`);
    fail(err);
  });
  worker.on("exit", (code) => fail(new Error(`the platform thread ${start} exited (code ${code})`)));
  const request = (message) => new Promise((resolve, reject) => {
    if (died !== undefined) return reject(died);
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...message, id });
  });
  const info = await readyPromise;
  return {
    info,
    call: (name, ...args) => request({ op: "call", name, args }),
    set: (name, value) => request({ op: "set", name, value }),
    get: (name) => request({ op: "get", name }),
    async stop() {
      if (died === undefined) await request({ op: "stop" });
      await worker.terminate();
    },
  };
}

function resolvePath(root, dotted) {
  const parts = dotted.split(".");
  const last = parts.pop();
  let owner = root;
  for (const p of parts) owner = owner[p];
  return { owner, last };
}

async function serve() {
  const mod = await import(workerData.moduleUrl);
  const platform = await mod[workerData.start](workerData.options);
  parentPort.on("message", async (m) => {
    try {
      let value;
      if (m.op === "call") {
        const { owner, last } = resolvePath(platform, m.name);
        value = await owner[last](...m.args);
      } else if (m.op === "set") {
        const { owner, last } = resolvePath(platform, m.name);
        owner[last] = m.value;
      } else if (m.op === "get") {
        const { owner, last } = resolvePath(platform, m.name);
        value = owner[last];
      } else if (m.op === "stop") {
        await platform.stop();
      }
      parentPort.postMessage({ id: m.id, value: value === undefined ? undefined : JSON.parse(JSON.stringify(value)) });
    } catch (err) {
      parentPort.postMessage({ id: m.id, error: String(err?.stack ?? err) });
    }
  });
  const info = {};
  for (const [k, v] of Object.entries(platform)) if (typeof v === "string" || typeof v === "number") info[k] = v;
  parentPort.postMessage({ ready: info });
}

if (!isMainThread && workerData?.moduleUrl !== undefined) await serve();
