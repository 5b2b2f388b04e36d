/**
 * `startOpenWhiskEmulator()`: an Apache OpenWhisk REST API on 127.0.0.1 that the `openwhisk` npm
 * client talks to unmodified, running each activation in a child-process "container" through the
 * action-proxy contract. It is the test double for the platform (no container engine here); see
 * README.md in this folder for what it emulates and what it leaves out.
 */
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ActionStore } from "./action-store.js";
import { ActivationStore } from "./activations.js";
import { ContainerPool } from "./container-pool.js";
import { emptyStats, resolveOptions, type EmulatorState } from "./emulator-state.js";
import { FaultInjector } from "./faults.js";
import { MinuteWindow } from "./limits.js";
import { handleRequest } from "./routes.js";
import type { OpenWhiskEmulator, OpenWhiskEmulatorOptions } from "./types.js";

/**
 * Start an OpenWhisk emulator on a free port of 127.0.0.1.
 * @param options - limits, auth, proxy and faults; every field has a default
 * @returns the running emulator: its `apihost`, `apiKey`, `namespace`, live `stats`,
 *   `setFaults()` and `stop()`
 * @throws RangeError for an invalid option or fault rate; Error when the proxy script is missing
 * @example
 * ```ts
 * const ow = await startOpenWhiskEmulator({ invocationsPerMinute: 10_000 });
 * const client = openwhisk({ apihost: ow.apihost, api_key: ow.apiKey, namespace: ow.namespace });
 * // ... client.actions.create(...), client.actions.invoke(...)
 * await ow.stop();
 * ```
 */
export async function startOpenWhiskEmulator(options: OpenWhiskEmulatorOptions = {}): Promise<OpenWhiskEmulator> {
  const resolved = resolveOptions(options);
  if (!existsSync(resolved.proxyPath)) {
    throw new Error(
      `the action proxy ${resolved.proxyPath} does not exist: run \`npm run build\` (it builds the runtime), or pass options.proxyPath`,
    );
  }
  const stats = emptyStats();
  const faults = new FaultInjector();
  faults.set(options.faults ?? {});
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const apihost = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env: Record<string, string> = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", __OW_API_HOST: apihost };
  if (process.env["HOME"] !== undefined) env["HOME"] = process.env["HOME"];
  const pool = new ContainerPool(
    { proxyPath: resolved.proxyPath, env: { ...env, ...resolved.containerEnv } },
    resolved.maxContainers,
    resolved.idleContainerMs,
    stats,
  );
  const activations = new ActivationStore();
  const state: EmulatorState = {
    options: resolved,
    store: new ActionStore(resolved.namespace, resolved.maxCodeBytes, resolved.limitBounds),
    activations,
    pool,
    faults,
    minute: new MinuteWindow(),
    stats,
    invoker: {
      namespace: resolved.namespace,
      apiKey: resolved.apiKey,
      pool,
      activations,
      stats,
      maxResultBytes: resolved.maxResultBytes,
      logMarkerWaitMs: resolved.logMarkerWaitMs,
    },
    running: new Set(),
    timers: new Set(),
  };
  server.on("request", (req, res) => void handleRequest(state, req, res));
  let stopping: Promise<void> | undefined;
  return {
    apihost,
    apiKey: resolved.apiKey,
    namespace: resolved.namespace,
    stats,
    setFaults: (table) => faults.set(table),
    stop: () => (stopping ??= stop(state, server)),
  };
}

async function stop(state: EmulatorState, server: ReturnType<typeof createServer>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  for (const timer of state.timers) clearTimeout(timer);
  state.timers.clear();
  await state.pool.stop();
  await Promise.allSettled([...state.running]);
  state.activations.abandonWaiters();
  await closed;
}
