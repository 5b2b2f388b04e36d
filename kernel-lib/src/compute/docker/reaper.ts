/**
 * Leftover containers: every container carries its client's id, pid and host as labels. A small
 * detached reaper process per client watches a pipe only the client holds; when the client ends in
 * any way (SIGKILL included) the pipe closes and the reaper removes that client's containers.
 * {@link sweepLeftovers} removes the containers of clients that are gone (run when a backend starts
 * and by `tswren clean`).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { ConfigSection } from "../../config/types.js";
import { checkEngine, runDocker, type EngineTarget } from "./docker-cli.js";
import { dockerSettings } from "./settings.js";
import { LABEL_CLIENT, LABEL_CLIENT_HOST, LABEL_CLIENT_PID, LABEL_CONTAINER, removeContainers, type ClientIdentity } from "./container.js";

/** This process's identity on its containers. */
export const CLIENT: ClientIdentity = { clientId: `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`, pid: process.pid, host: hostname() };

const reapers = new Set<string>();

/**
 * The reaper, run as `node -e REAPER DOCKER_CLI DOCKER_HOST CLIENT_ID` (plain JavaScript, so it
 * needs no file of this package): wait for stdin to close, then remove the client's containers.
 */
const REAPER = `
const { execFile } = require("node:child_process");
const [cli, host, clientId] = process.argv.slice(1);
const env = { ...process.env, DOCKER_HOST: host };
const run = (args, next) => execFile(cli, args, { env, timeout: 60000 }, (err, out) => next(err ? "" : String(out)));
process.stdin.resume();
process.stdin.on("close", () => {
  run(["ps", "-aq", "--filter", "label=${LABEL_CLIENT}=" + clientId], (out) => {
    const ids = out.split("\\n").filter(Boolean);
    if (ids.length === 0) process.exit(0);
    run(["rm", "-f", ...ids], () => process.exit(0));
  });
});
`;

/**
 * Start this process's reaper for the engine (once per engine address).
 * @param target - the engine the containers run on
 */
export function ensureReaper(target: EngineTarget): void {
  const key = JSON.stringify([target.dockerCli, target.dockerHost]);
  if (reapers.has(key)) return;
  reapers.add(key);
  const child = spawn(process.execPath, ["-e", REAPER, target.dockerCli, target.dockerHost, CLIENT.clientId], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  child.on("error", () => undefined);
  child.stdin.on("error", () => undefined);
  child.unref();
  (child.stdin as unknown as { unref?(): void }).unref?.();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Names of this backend's containers: all of them, or those of one client id. */
export async function listContainers(target: EngineTarget, clientId?: string): Promise<Array<{ name: string; pid: number; host: string }>> {
  const filter = clientId === undefined ? `label=${LABEL_CONTAINER}=1` : `label=${LABEL_CLIENT}=${clientId}`;
  const format = `{{.Names}}\t{{.Label "${LABEL_CLIENT_PID}"}}\t{{.Label "${LABEL_CLIENT_HOST}"}}`;
  const out = await runDocker(target, ["ps", "-a", "--filter", filter, "--format", format], { timeoutMs: 30_000 });
  return out.split("\n").filter((l) => l.trim() !== "").map((line) => {
    const [name = "", pid = "", host = ""] = line.split("\t");
    return { name, pid: Number(pid), host };
  });
}

/**
 * Remove the containers whose client process (on this host) is gone.
 * @returns the names removed
 */
export async function sweepLeftovers(target: EngineTarget): Promise<string[]> {
  const here = hostname();
  const dead = (await listContainers(target)).filter((c) => c.host === here && Number.isInteger(c.pid) && c.pid > 0 && !processAlive(c.pid));
  const names = dead.map((c) => c.name);
  await removeContainers(target, names);
  return names;
}

/**
 * `tswren clean` on the docker backend: remove the containers of clients that are gone.
 * @returns one line for people
 */
export async function cleanContainers(section: ConfigSection<"docker">): Promise<string> {
  const settings = dockerSettings(section);
  await checkEngine(settings);
  const removed = await sweepLeftovers(settings);
  return `removed ${removed.length} leftover tswren containers from the engine at ${settings.dockerHost}`;
}
