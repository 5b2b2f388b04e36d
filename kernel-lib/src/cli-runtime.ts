/**
 * CLI commands for the serverless runtime and for function logs:
 * `tswren runtime deploy|list|delete [--memory N]` manage the runtime of the configured backend
 * through its runtime capabilities (OpenWhisk / IBM Cloud Functions actions; `runtime list` also
 * shows a Knative service's versions), and `tswren logs <executorId-jobId>` prints each call's logs from its `status.json`.
 */
import type { Command } from "commander";
import { loadConfig } from "./config/index.js";
import type { TswrenConfig } from "./config/index.js";
import { ErrorCodes, TswrenError } from "./errors.js";
import { readJobStatuses } from "./storage/status-records.js";
import type { CallStatus } from "./protocol.js";
import type { ComputeBackend } from "./compute/backend.js";
import { createSelectedCompute } from "./compute/registry.js";
import type { StorageBackend } from "./storage/backend.js";
import { createSelectedStorage } from "./storage/registry.js";
import * as keys from "./storage/keys.js";

type Print = (line: string) => void;

/** Options of the `runtime` subcommands. */
export interface RuntimeCommandOptions {
  /** Memory size in MB (default: the section's `runtime_memory`; for delete: every size). */
  memory?: string;
  /** Compute backend (default: `tswren.backend` from the config). */
  backend?: string;
  /** aws_lambda: create the execution role when it is missing (PyWren's `create_role`). */
  createRole?: boolean;
  /** docker: base image of `build`. */
  from?: string;
  /** docker: image name of `build` / `delete` (default `docker.runtime`). */
  name?: string;
  /** docker: npm packages `build` installs into the image. */
  npm?: string[];
}

/** Largest `--memory` of a backend, MB: Lambda allows 10,240 MB, OpenWhisk's default limit is 2048. */
const MAX_MEMORY_MB: Record<string, number> = { aws_lambda: 10_240 };

function parseMemory(memory: string | undefined, backend: string): number | undefined {
  if (memory === undefined) return undefined;
  const mb = Number(memory);
  const maxMb = MAX_MEMORY_MB[backend] ?? 2048;
  if (!Number.isInteger(mb) || mb < 128 || mb > maxMb) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren runtime: --memory must be an integer number of MB from 128 to ${maxMb}; got ${JSON.stringify(memory)} (the limit of ${backend})`);
  }
  return mb;
}

function loadFor(backend: string | undefined, createRole = false): TswrenConfig {
  const overrides: Record<string, Record<string, unknown>> = {};
  if (backend !== undefined) overrides["tswren"] = { backend };
  if (createRole) overrides["aws_lambda"] = { create_role: true };
  return loadConfig({ overrides });
}

/** The error for a backend without the capability a `runtime` subcommand needs. */
function notSupported(what: string, backend: string): TswrenError {
  const verb = what === "list" ? "lists its tswren runtime" : "deploys its tswren runtime";
  return new TswrenError(
    ErrorCodes.BAD_OPTION,
    `tswren runtime ${what} needs a backend that ${verb}, but the backend is ${backend}, which does not (docs/backends/${backend}.md says how its runtime is set up); set tswren.backend or pass --backend openwhisk`,
  );
}

/** Run one `runtime` subcommand on a backend's runtime capabilities. */
async function runOn(compute: ComputeBackend, what: "deploy" | "list" | "delete", memoryMb: number | undefined): Promise<string[]> {
  const { runtimeList, runtimeDeploy } = compute.capabilities;
  if (what === "list") {
    if (runtimeList === undefined) throw notSupported(what, compute.name);
    return runtimeList.list();
  }
  if (runtimeDeploy === undefined) throw notSupported(what, compute.name);
  return what === "deploy" ? [await runtimeDeploy.deploy(memoryMb)] : runtimeDeploy.remove(memoryMb);
}

/**
 * `tswren runtime deploy|list|delete`: manage the runtime of the configured backend, through its
 * `runtimeDeploy` / `runtimeList` capabilities (the runtime actions of `openwhisk` and `ibm_cf`,
 * the versions of a Knative service).
 * @throws TswrenError `TSWREN_BAD_OPTION` for a backend without the capability or a bad
 *   `--memory`, and the backend's compute errors
 */
export async function runtimeCommand(what: "deploy" | "list" | "delete" | "build", print: Print, options: RuntimeCommandOptions): Promise<void> {
  const config = loadFor(options.backend, options.createRole === true);
  const memoryMb = parseMemory(options.memory, config.tswren.backend);
  if (config.tswren.backend === "docker" && config.docker !== undefined) {
    const { dockerRuntimeCommand } = await import("./compute/docker/cli-docker.js");
    for (const line of await dockerRuntimeCommand(what, config.docker, options)) print(line);
    return;
  }
  if (what === "build") throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren runtime build builds a docker image; pass --backend docker (the backend is ${config.tswren.backend})`);
  const compute = await createSelectedCompute(config);
  try {
    for (const line of await runOn(compute, what, memoryMb)) print(line);
  } finally {
    await compute.close();
  }
}

/** Split `<executorId>-<jobId>` (or `<executorId>/<jobId>`) at its last separator. */
function parseJobRef(job: string): { executorId: string; jobId: string } {
  const m = /^(.+)[-/]([AMR]\d{3,})$/.exec(job.trim());
  if (m?.[1] === undefined || m[2] === undefined) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren logs: ${JSON.stringify(job)} is not a job reference; pass <executorId>-<jobId>, e.g. 3fa2b1-0-M000 (a future's executorId and jobId, or the job's folder in storage)`);
  }
  return { executorId: m[1], jobId: m[2] };
}

function describeCall(s: CallStatus): string {
  const outcome = s.ok ? "ok" : `failed: ${s.error?.name ?? "Error"}: ${s.error?.message ?? ""}`;
  return `--- call ${s.callId} (attempt ${s.attempt}, ${outcome}, worker ${s.workerId}) ---`;
}

/**
 * `tswren logs <executorId-jobId>` (or `--latest`): print each call's logs, in call order, from
 * the job's `status.json` objects or status batches (localhost) in the configured storage.
 * @throws TswrenError `TSWREN_BAD_OPTION` for a malformed job reference, `TSWREN_NO_SUCH_KEY`
 *   when the job has no statuses (wrong id, or its data was cleaned)
 */
export async function logsCommand(job: string | undefined, print: Print, options: { call?: string; latest?: boolean } = {}): Promise<void> {
  if ((job === undefined) === (options.latest !== true)) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, "tswren logs: pass a job reference (<executorId>-<jobId>) or --latest (the job whose call ended last), not both");
  }
  const config = loadConfig();
  const t = config.tswren;
  const storage = await createSelectedStorage(config);
  try {
    const { executorId, jobId } = job !== undefined ? parseJobRef(job) : await latestJob(storage, t);
    if (job === undefined) print(`latest job: ${executorId}-${jobId}`);
    const prefix = keys.jobPrefix(t.storage_prefix, executorId, jobId);
    const found = await readJobStatuses(storage, { bucket: t.storage_bucket, prefix: t.storage_prefix, executorId, jobId });
    const wanted = [...found.values()].filter((s) => options.call === undefined || s.callId === options.call).sort((a, b) => (a.callId < b.callId ? -1 : 1));
    if (wanted.length === 0) {
      throw new TswrenError(ErrorCodes.NO_SUCH_KEY, `no call statuses under ${t.storage_bucket}/${prefix} (${t.storage} storage); check the job reference and that the executor's data was not cleaned (dataCleaner: false keeps it)`);
    }
    for (const status of wanted) {
      print(describeCall(status));
      const logs = status.logs.replace(/\n$/, "");
      if (logs !== "") print(logs);
    }
  } finally {
    await storage.close();
  }
}

/**
 * The job whose call status was written last under the configured prefix (PyWren's
 * `print_latest_logs`).
 * @throws TswrenError `TSWREN_NO_SUCH_KEY` when no job has a status
 */
async function latestJob(storage: StorageBackend, t: TswrenConfig["tswren"]): Promise<{ executorId: string; jobId: string }> {
  const prefix = `${t.storage_prefix.replace(/\/+$/, "")}/`;
  let newest: { key: string; ms: number } | undefined;
  const found = (await storage.bucketExists(t.storage_bucket)) ? await storage.list(t.storage_bucket, prefix) : [];
  for (const o of found) {
    if ((o.key.endsWith("/status.json") || keys.isStatusBatchKey(o.key)) && (newest === undefined || o.lastModifiedMs >= newest.ms)) newest = { key: o.key, ms: o.lastModifiedMs };
  }
  const folder = newest?.key.slice(prefix.length).split("/")[0];
  if (folder === undefined) {
    throw new TswrenError(ErrorCodes.NO_SUCH_KEY, `tswren logs --latest: no call statuses under ${t.storage_bucket}/${prefix} (${t.storage} storage); run a job first (dataCleaner: false keeps its data after close)`);
  }
  return parseJobRef(folder);
}

/** Add `runtime deploy|list|delete` and `logs` to the CLI program. */
export function registerRuntimeCommands(cmd: Command, print: Print): void {
  const runtime = cmd.command("runtime").description("manage the tswren runtime on the serverless backend (openwhisk, ibm_cf)");
  for (const what of ["deploy", "list", "delete"] as const) {
    const sub = runtime.command(what);
    sub.description(
      what === "deploy" ? "create or update the runtime action for a memory size"
      : what === "list" ? "list the deployed runtime actions and their tswren versions"
      : "delete the runtime action of a memory size (default: every size)",
    );
    if (what !== "list") sub.option("-m, --memory <mb>", "memory size in MB (deploy default: runtime_memory)");
    if (what === "deploy") sub.option("--create-role", "aws_lambda: create the execution role tswren-lambda-role when it is missing");
    if (what === "delete") sub.option("--name <tag>", "docker: the image to delete (default: docker.runtime)");
    sub.option("-b, --backend <name>", "compute backend (default: from config)");
    sub.action((opts: RuntimeCommandOptions) => runtimeCommand(what, print, opts));
  }
  runtime
    .command("build")
    .description("build a docker runtime image: the tswren runtime (and npm packages) on a base image with node")
    .option("-b, --backend <name>", "compute backend (docker)")
    .option("--from <image>", "base image with node on PATH (default node:20-bookworm-slim)")
    .option("--name <tag>", "name of the image (default: docker.runtime)")
    .option("--npm <packages...>", "npm packages to install into the image")
    .action((opts: RuntimeCommandOptions) => runtimeCommand("build", print, opts));
  cmd
    .command("logs")
    .description("print each call's logs of a job, e.g. `tswren logs 3fa2b1-0-M000`, or of the latest job: `tswren logs --latest`")
    .argument("[job]", "<executorId>-<jobId>")
    .option("-c, --call <callId>", "only this call, e.g. 00003")
    .option("--latest", "the job whose call ended last (PyWren's print_latest_logs)")
    .action((job: string | undefined, opts: { call?: string; latest?: boolean }) => logsCommand(job, print, opts));
}
