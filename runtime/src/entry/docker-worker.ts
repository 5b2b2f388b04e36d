/**
 * Entry point of a docker backend container: a long-lived runtime that reads invocations from
 * stdin (length-prefixed frames written by the client through `docker run -i`), runs their calls
 * one at a time, in the order received, and writes a `start` and a `status` frame per call to
 * stdout. stdout belongs to the channel: anything else the process writes there (a function's
 * `console.log` outside a call) goes to stderr. It exits when stdin closes (the client is gone)
 * or on `shutdown`, and after a function called `process.exit` (the client starts a new container).
 */
import { encodeFrame, FrameReader, refuseInnerBackend } from "tswren/internal";
import type { DockerHostMessage, DockerWorkerMessage, InvocationPayload } from "tswren/internal";
import { workerShouldRetire } from "../exit-guard.js";
import { executeCall, persistStatus } from "../handler.js";
import { startMarkerHook } from "../start-marker.js";

const channel = process.stdout;
const channelWrite = channel.write.bind(channel);
// Everything written to process.stdout from here on is not a frame: send it to stderr.
process.stdout.write = process.stderr.write.bind<typeof process.stdout.write>(process.stderr);

// Containers never get the Docker engine's socket (that would hand them the host).
refuseInnerBackend("docker", "its containers have no access to the Docker engine (giving them its socket would give them the host)");

const workerId = process.env["TSWREN_CONTAINER"] ?? `docker-${process.pid}`;
const queue: InvocationPayload[] = [];
let running = false;
let retired = false;

function send(message: DockerWorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!channelWrite(encodeFrame(message))) channel.once("drain", resolve);
    else resolve();
  });
}

function leave(code: number): void {
  // exit once everything queued on stdout is written
  channelWrite(Buffer.alloc(0), () => process.exit(code));
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  try {
    for (let payload = queue.shift(); payload !== undefined; payload = queue.shift()) {
      const p = payload;
      const beforeCall = startMarkerHook(p, workerId);
      for (const call of p.calls) {
        const onStart = (): void => { void send({ type: "start", executorId: p.executorId, jobId: p.jobId, callId: call.callId, workerStartMs: Date.now() }); };
        const { status, storage } = await executeCall(p, call, { workerId, onStart, ...(beforeCall ? { beforeCall } : {}) });
        await send({ type: "status", status: await persistStatus(storage, p, status) });
        if (workerShouldRetire()) {
          retired = true;
          queue.length = 0;
          await send({ type: "retiring", reason: "a function called process.exit" });
          leave(0);
          return;
        }
      }
    }
  } finally {
    running = false;
  }
}

const reader = new FrameReader<DockerHostMessage>();
process.stdin.on("data", (chunk: Buffer) => {
  for (const message of reader.push(chunk)) {
    switch (message.type) {
      case "invoke":
        if (retired) break;
        queue.push(message.payload);
        drain().catch((err: unknown) => {
          process.stderr.write(`tswren docker worker ${workerId}: ${String(err)}\n`);
          leave(70);
        });
        break;
      case "shutdown":
        leave(0);
        break;
    }
  }
});
process.stdin.on("end", () => { leave(0); });
void send({ type: "ready", workerId, nodeVersion: process.version });
