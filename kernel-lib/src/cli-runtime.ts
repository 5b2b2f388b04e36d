/**
 * CLI commands for the serverless runtime and for function logs:
 * `tswren runtime deploy|list|delete [--memory N]` manage the runtime actions of the configured
 * OpenWhisk / IBM Cloud Functions backend (`runtime list` also shows a Knative service's
 * versions), and `tswren logs <executorId-jobId>` prints each call's logs from its `status.json`.
 */
import type { Command } from "commander";
import { loadConfig } from "./config/index.js";
import type { TswrenConfig } from "./config/index.js";
import { ErrorCodes, TswrenError } from "./errors.js";
import { decodeStatus } from "./protocol.js";
import type { CallStatus } from "./protocol.js";
import { createStorageBackend } from "./storage/registry.js";
import * as keys from "./storage/keys.js";

type Print = (line: string) => void;

/** Options of the `runtime` subcommands. */
export interface RuntimeCommandOptions {
  /** Memory size in MB (default: the section's `runtime_memory`; for delete: every size). */
  memory?: string;
  /** Compute backend (default: `tswren.backend` from the config). */
  backend?: string;
}

function sections(config: TswrenConfig): Record<string, Record<string, unknown>> {
  return config as unknown as Record<string, Record<string, unknown>>;
}

function parseMemory(memory: string | undefined): number | undefined {
  if (memory === undefined) return undefined;
  const mb = Number(memory);
  if (!Number.isInteger(mb) || mb < 128 || mb > 2048) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren runtime: --memory must be an integer number of MB from 128 to 2048; got ${JSON.stringify(memory)}`);
  }
  return mb;
}

function loadFor(backend: string | undefined): TswrenConfig {
  return loadConfig(backend !== undefined ? { overrides: { tswren: { backend } } } : {});
}

/** `tswren runtime list` on Knative: the service's versions from `GET /metadata`. */
async function knativeMetadata(print: Print, url: string): Promise<void> {
  const target = new URL("metadata", url.endsWith("/") ? url : `${url}/`);
  let text: string;
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(30_000) });
    text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  } catch (err) {
    throw new TswrenError(ErrorCodes.COMPUTE_UNREACHABLE, `cannot read ${target.href} (${err instanceof Error ? err.message : String(err)}); check knative.url`);
  }
  print(`knative service ${url}: ${text.trim()}`);
}

/**
 * `tswren runtime deploy|list|delete`: manage the runtime actions (one per memory size) of the
 * configured `openwhisk` or `ibm_cf` backend.
 * @throws TswrenError `TSWREN_BAD_OPTION` for a backend without deployable runtime or a bad
 *   `--memory`, and the backend's compute errors
 */
export async function runtimeCommand(what: "deploy" | "list" | "delete", print: Print, options: RuntimeCommandOptions): Promise<void> {
  const memoryMb = parseMemory(options.memory);
  const config = loadFor(options.backend);
  const backend = config.tswren.backend;
  if (backend === "knative" && what === "list") {
    await knativeMetadata(print, String(sections(config)["knative"]?.["url"]));
    return;
  }
  if (backend !== "openwhisk" && backend !== "ibm_cf") {
    const hint = backend === "knative" ? "; a Knative service is deployed with kn or kubectl (see docs/backends/knative.md)" : "";
    throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren runtime ${what} works with the openwhisk and ibm_cf backends, but the backend is ${backend}${hint}; set tswren.backend or pass --backend openwhisk`);
  }
  const { OpenWhiskCompute } = await import("./compute/openwhisk/index.js");
  const compute = new OpenWhiskCompute(sections(config)[backend] ?? {}, { section: backend });
  const where = `${compute.settings.endpoint} (namespace ${compute.settings.namespace})`;
  try {
    if (what === "deploy") {
      const mb = memoryMb ?? compute.settings.memoryMb;
      const deployed = await compute.runtime.deploy(mb);
      print(`deployed ${deployed.action} (tswren ${deployed.tswrenVersion ?? "?"}, nodejs:20, ${mb} MB, timeout ${compute.settings.timeoutS} s) at ${where}`);
    } else if (what === "list") {
      const found = await compute.runtime.list();
      if (found.length === 0) print(`no tswren runtime deployed at ${where}`);
      for (const r of found) print(`${r.action}\t${r.memoryMb ?? "?"} MB\ttswren ${r.tswrenVersion ?? "unknown"}`);
    } else {
      const deleted = await compute.runtime.remove(memoryMb);
      if (deleted.length === 0) print(`nothing to delete at ${where}`);
      for (const action of deleted) print(`deleted ${action}`);
    }
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
 * `tswren logs <executorId-jobId>`: print each call's logs, in call order, from the `status.json`
 * objects in the configured storage.
 * @throws TswrenError `TSWREN_BAD_OPTION` for a malformed job reference, `TSWREN_NO_SUCH_KEY`
 *   when the job has no statuses (wrong id, or its data was cleaned)
 */
export async function logsCommand(job: string, print: Print, options: { call?: string } = {}): Promise<void> {
  const { executorId, jobId } = parseJobRef(job);
  const config = loadConfig();
  const t = config.tswren;
  const storage = await createStorageBackend(t.storage, sections(config)[t.storage === "localhost" ? "localhost_storage" : t.storage] ?? {});
  try {
    const prefix = keys.jobPrefix(t.storage_prefix, executorId, jobId);
    const found = (await storage.list(t.storage_bucket, prefix)).filter((o) => o.key.endsWith("/status.json")).map((o) => o.key).sort();
    const wanted = options.call === undefined ? found : found.filter((k) => k.endsWith(`/${options.call ?? ""}/status.json`));
    if (wanted.length === 0) {
      throw new TswrenError(ErrorCodes.NO_SUCH_KEY, `no call statuses under ${t.storage_bucket}/${prefix} (${t.storage} storage); check the job reference and that the executor's data was not cleaned (dataCleaner: false keeps it)`);
    }
    for (const key of wanted) {
      const status = decodeStatus(Buffer.from(await storage.get(t.storage_bucket, key)).toString("utf8"));
      print(describeCall(status));
      const logs = status.logs.replace(/\n$/, "");
      if (logs !== "") print(logs);
    }
  } finally {
    await storage.close();
  }
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
    sub.option("-b, --backend <name>", "compute backend (default: from config)");
    sub.action((opts: RuntimeCommandOptions) => runtimeCommand(what, print, opts));
  }
  cmd
    .command("logs")
    .description("print each call's logs of a job, e.g. `tswren logs 3fa2b1-0-M000`")
    .argument("<job>", "<executorId>-<jobId>")
    .option("-c, --call <callId>", "only this call, e.g. 00003")
    .action((job: string, opts: { call?: string }) => logsCommand(job, print, opts));
}
