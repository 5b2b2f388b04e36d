/**
 * Entry point of a localhost pool worker: a persistent child process that receives invocations
 * over the IPC channel, runs their calls one at a time, in the order received, and reports each
 * call's status back on the same channel (the localhost backend's direct channel). The pool
 * knows which call runs from that order, so no per-call start message is needed.
 *
 * A worker writes no `status.json`: the pool stores the statuses it receives in batches per job
 * (`compute/localhost/status-batcher.ts`), so a status travels to its future at once. With
 * RabbitMQ monitoring, a call's publish overlaps the next call (statuses are still reported in
 * call order, each once published).
 *
 * Faults stay with their call (`fault-guard.ts`): an error thrown or rejected by a timer or
 * promise a call left behind, or its late `process.exit`, is reported against that call (a
 * `fault` message; the pool logs it) and never fails the call running now; the worker then
 * retires once that call is reported, and the pool replaces it.
 */
import type { CallStatus, HostMessage, InvocationPayload, WorkerMessage } from "tswren/internal";
import { provideRuntimeModule, publishStatus } from "tswren/internal";
import * as tswrenApi from "tswren";
import { exitProcess, guardExitForever, workerShouldRetire } from "../exit-guard.js";
import { installFaultGuard, onUnclean, workerIsUnclean } from "../fault-guard.js";
import { writeRealStderr } from "../log-capture.js";
import { executeCall } from "../handler.js";
import { startMarkerHook } from "../start-marker.js";

// A function may create an executor itself (its calls run on this worker's own local pool).
provideRuntimeModule("tswren", tswrenApi);

const workerId = `local-${process.pid}`;
const queue: InvocationPayload[] = [];
let running = false;
let retired = false;
/** RabbitMQ publishes allowed to overlap the following calls. */
const MAX_PENDING_WRITES = 16;
let pendingWrites = 0;
/** Reports statuses in call order, each after its write finished. */
let reporting: Promise<void> = Promise.resolve();

/** Tell the pool this worker runs nothing more, then leave. */
function retire(reason: string): void {
  retired = true;
  queue.length = 0;
  send({ type: "retiring", reason });
  process.disconnect?.();
}

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

/**
 * With RabbitMQ monitoring: the status goes to the pool at once too (the pool stores it, the
 * storage fallback's record, even while a stalled broker holds the publish); publishes run in
 * call order, overlapping the next calls.
 */
async function report(payload: InvocationPayload, status: CallStatus): Promise<void> {
  send({ type: "status", status });
  pendingWrites++;
  reporting = reporting.then(async () => {
    await publishStatus(payload, status);
    pendingWrites--;
  });
  if (pendingWrites >= MAX_PENDING_WRITES) await reporting;
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  try {
    for (let payload = queue.shift(); payload !== undefined; payload = queue.shift()) {
      const beforeCall = startMarkerHook(payload, workerId);
      for (const call of payload.calls) {
        const { status } = await executeCall(payload, call, { workerId, ...(beforeCall ? { beforeCall } : {}) });
        if (payload.amqp === undefined) send({ type: "status", status });
        else await report(payload, status);
        if (workerShouldRetire() || workerIsUnclean()) {
          await reporting;
          retire(workerShouldRetire() ? "a function called process.exit" : "an error escaped a call");
          return;
        }
      }
    }
  } finally {
    running = false;
  }
}

process.on("message", (message: HostMessage) => {
  switch (message.type) {
    case "invoke":
      if (retired) return;
      queue.push(message.payload);
      drain().catch((err: unknown) => {
        process.stderr.write(`tswren worker ${workerId}: ${String(err)}\n`);
        process.exitCode = 70;
        process.disconnect?.();
      });
      return;
    case "shutdown":
      process.disconnect?.();
      return;
  }
});
process.on("disconnect", () => exitProcess(typeof process.exitCode === "number" ? process.exitCode : 0));
guardExitForever();
installFaultGuard((fault) => {
  writeRealStderr(fault.text);
  send({ type: "fault", call: fault.call, text: fault.text });
});
// A late fault while no call runs: leave now (a running call retires the worker when it ends).
onUnclean(() => {
  const idle = (): boolean => !running && !retired;
  if (idle()) void reporting.then(() => { if (idle()) retire("an error escaped a call"); });
});
send({ type: "ready", workerId });
