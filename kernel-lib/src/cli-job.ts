/**
 * Non-interactive job commands: `tswren map|call-async|map-reduce --module M --export E ...`
 * run a function named by module and export over JSON inputs, print progress on stderr and the
 * result as JSON on the last stdout line (or a job reference with `--no-fetch-result`, or a
 * storage reference when the result is larger than `--max-result-bytes`). SIGTERM / SIGINT
 * cancel the job. Used by the Airflow operators (`airflow-operators/`) and any shell.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Command } from "commander";
import { ErrorCodes, RemoteFunctionError, TswrenError } from "./errors.js";
import { FunctionExecutor } from "./executor.js";
import type { ExecutorOptions } from "./executor-options.js";
import type { ResponseFuture } from "./future.js";
import type { MapReduceOptions } from "./job/options.js";
import { countFutures } from "./progress/progress.js";
import { loadJobModule, mapFunctionFor, parseFunctionRef, reduceFunctionFor, type LoadModuleOptions } from "./cli-job-module.js";
import { parseJsonOption, parseNumberOption, parseObjectOption, resultJson, toIterdata } from "./cli-job-io.js";

type Print = (line: string) => void;
type JobKind = "map" | "call-async" | "map-reduce";

/** Options of the job commands, as commander gives them. */
export interface JobCommandOptions {
  module?: string; export?: string; reduceModule?: string; reduceExport?: string;
  iterdata?: string; data?: string; extraArgs?: string; extraEnv?: string;
  chunkSize?: string; chunkN?: string; remoteInvocation?: boolean; runtimeMemory?: string;
  timeout?: string; retries?: string; configFile?: string; backend?: string; storage?: string;
  root?: string; fetchResult: boolean; wait: boolean; cleanData?: boolean;
  reducerOnePerObject?: boolean; reducerWaitLocal?: boolean;
  includeModules?: string; excludeModules?: string; maxResultBytes?: string;
}

const DEFAULT_MAX_RESULT_BYTES = 1 << 20;

function log(line: string): void {
  process.stderr.write(`tswren: ${line}\n`);
}

function listOption(text: string | undefined): string[] {
  return (text ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function callOptions(kind: JobKind, o: JobCommandOptions): MapReduceOptions {
  const extraArgs = parseObjectOption(o.extraArgs, "--extra-args");
  const extraEnv = parseObjectOption(o.extraEnv, "--extra-env");
  for (const [k, v] of Object.entries(extraEnv ?? {})) {
    if (typeof v !== "string") throw new TswrenError(ErrorCodes.BAD_OPTION, `--extra-env: the value of ${k} must be a string; got ${typeof v}`);
  }
  const out: MapReduceOptions = {
    ...(extraArgs ? { extraArgs } : {}),
    ...(extraEnv ? { extraEnv: extraEnv as Record<string, string> } : {}),
    chunkSize: parseNumberOption(o.chunkSize, "--chunk-size", 1, true),
    chunkNumber: parseNumberOption(o.chunkN, "--chunk-n", 1, true),
    runtimeMemory: parseNumberOption(o.runtimeMemory, "--runtime-memory", 64, true),
    timeout: parseNumberOption(o.timeout, "--timeout", 0.001, false),
    retries: parseNumberOption(o.retries, "--retries", 0, true),
    ...(o.remoteInvocation === true ? { remoteInvoker: true } : {}),
  };
  if (kind === "map-reduce") {
    if (o.reducerOnePerObject === true) out.reducerOnePerObject = true;
    if (o.reducerWaitLocal === true) out.reducerWaitLocal = true;
  } else if (o.reducerOnePerObject === true || o.reducerWaitLocal === true || o.reduceModule !== undefined || o.reduceExport !== undefined) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren ${kind}: reducer options need \`tswren map-reduce\``);
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

function executorOptions(o: JobCommandOptions): ExecutorOptions {
  if (o.configFile !== undefined) process.env["TSWREN_CONFIG_FILE"] = path.resolve(o.configFile);
  return {
    ...(o.backend !== undefined ? { backend: o.backend } : {}),
    ...(o.storage !== undefined ? { storage: o.storage } : {}),
    // A job reference (--no-fetch-result) points at results in storage: keep them there.
    ...(!o.fetchResult || !o.wait ? { dataCleaner: false } : {}),
  };
}

function inputOf(kind: JobKind, o: JobCommandOptions): unknown {
  if (kind === "call-async") {
    const text = o.data ?? o.iterdata;
    return text === undefined ? null : parseJsonOption(text, o.data !== undefined ? "--data" : "--iterdata");
  }
  if (o.data !== undefined) throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren ${kind}: --data is the input of call-async; pass the inputs as --iterdata '[...]'`);
  if (o.iterdata === undefined) throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren ${kind}: --iterdata is required: a JSON array of inputs, @file.json, or a storage URL like '"s3://bucket/prefix/"'`);
  return toIterdata(parseJsonOption(o.iterdata, "--iterdata"));
}

/** Everything checked before the executor exists: nothing is written when this throws. */
async function prepare(kind: JobKind, o: JobCommandOptions, workDir: string) {
  const opts = callOptions(kind, o);
  const input = inputOf(kind, o);
  const mapRef = parseFunctionRef(o.module, o.export, "--module/--export");
  const loadOpts: LoadModuleOptions = { root: path.resolve(o.root ?? "."), workDir, includeModules: listOption(o.includeModules), excludeModules: listOption(o.excludeModules) };
  const map = mapFunctionFor(await loadJobModule(mapRef, loadOpts), mapRef.exportName);
  let reduce: ReturnType<typeof reduceFunctionFor> | null = null;
  if (kind === "map-reduce") {
    const reduceRef = parseFunctionRef(o.reduceModule ?? (o.reduceExport !== undefined ? mapRef.module : undefined), o.reduceExport, "--reduce-module/--reduce-export");
    reduce = reduceFunctionFor(await loadJobModule(reduceRef, loadOpts), reduceRef.exportName);
  }
  return { opts: { ...opts, capture: { ...map.capture, ...reduce?.capture } }, input, map, reduce, label: `${mapRef.module}#${mapRef.exportName}` };
}

function submit(kind: JobKind, fx: FunctionExecutor, p: Awaited<ReturnType<typeof prepare>>): Promise<ResponseFuture[]> {
  if (kind === "call-async") return fx.callAsync(p.map.fn, p.input, p.opts);
  if (kind === "map") return fx.map(p.map.fn, p.input as unknown[], p.opts);
  return fx.mapReduce(p.map.fn, p.input as unknown[], (p.reduce ?? p.map).fn, p.opts);
}

/** Progress lines on stderr: at each tenth of the calls (each call for small jobs). */
function progressReporter(futures: readonly ResponseFuture[]): () => void {
  const step = Math.max(1, Math.floor(futures.length / 10));
  let shown = 0;
  return () => {
    const c = countFutures(futures);
    const ended = c.done + c.failed;
    if (ended - shown < step && ended !== futures.length) return;
    shown = ended;
    log(`${ended}/${c.total} calls ended (${c.done} ok, ${c.failed} failed, ${c.running} running)`);
  };
}

function jobReference(fx: FunctionExecutor, futures: readonly ResponseFuture[], waited: boolean): Record<string, unknown> {
  const t = fx.config.tswren;
  const jobs = [...new Set(futures.map((f) => f.jobId))];
  const c = countFutures(futures);
  return {
    tswren: "job", executorId: fx.executorId, jobIds: jobs, jobKeys: jobs.map((j) => `${fx.executorId}-${j}`),
    calls: futures.length, state: waited ? (c.failed > 0 ? "failed" : "done") : "submitted",
    backend: t.backend, storage: t.storage, bucket: t.storage_bucket, prefix: t.storage_prefix,
  };
}

async function outputLine(fx: FunctionExecutor, futures: readonly ResponseFuture[], value: unknown, maxBytes: number): Promise<string> {
  const json = resultJson(value);
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return json;
  const storage = await fx.storage();
  const key = `${fx.config.tswren.storage_prefix.replace(/\/+$/, "")}/results/${fx.executorId}-${futures.at(-1)?.jobId ?? "job"}.json`;
  await storage.put(key, json);
  log(`the result (${bytes} bytes) is larger than --max-result-bytes ${maxBytes}: stored as ${storage.bucket}/${key}`);
  return JSON.stringify({ tswren: "stored-result", storage: fx.config.tswren.storage, bucket: storage.bucket, key, bytes });
}

function reportFailure(err: unknown, futures: readonly ResponseFuture[]): void {
  if (!(err instanceof RemoteFunctionError)) return;
  const failed = futures.find((f) => f.error === err);
  const logs = failed?.logs().trimEnd() ?? "";
  if (logs !== "") log(`logs of the failed call ${err.call.jobId}/${err.call.callId}:\n${logs}`);
  if (err.remoteStack !== undefined) log(`remote stack of call ${err.call.executorId}/${err.call.jobId}/${err.call.callId}:\n${err.remoteStack}`);
}

/** Cancel the job on SIGTERM / SIGINT; returns the signal's controller and a remover. */
function onSignals(fx: FunctionExecutor): { signal: AbortSignal; remove: () => void } {
  const controller = new AbortController();
  let got: NodeJS.Signals | null = null;
  const handler = (sig: NodeJS.Signals): void => {
    if (got !== null) return;
    got = sig;
    log(`${sig}: cancelling the job`);
    controller.abort(new TswrenError(ErrorCodes.CANCELLED, `tswren received ${sig}`));
    void fx.cancel();
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return { signal: controller.signal, remove: () => { process.off("SIGTERM", handler); process.off("SIGINT", handler); } };
}

async function runWith(kind: JobKind, o: JobCommandOptions, print: Print, fx: FunctionExecutor, p: Awaited<ReturnType<typeof prepare>>): Promise<void> {
  const signals = onSignals(fx);
  let futures: ResponseFuture[] = [];
  try {
    futures = await submit(kind, fx, p);
    log(`${kind} ${p.label}: ${futures.length} calls submitted as ${fx.executorId}-${[...new Set(futures.map((f) => f.jobId))].join(",")} on ${fx.config.tswren.backend}`);
    if (!o.wait) {
      print(JSON.stringify(jobReference(fx, futures, false)));
      return;
    }
    await fx.wait(futures, { signal: signals.signal, onProgress: progressReporter(futures) });
    const outputs = futures.filter((f) => f.producesOutput);
    const values = await fx.getResult(outputs, { signal: signals.signal });
    if (!o.fetchResult) {
      print(JSON.stringify(jobReference(fx, futures, true)));
      return;
    }
    const value = kind === "call-async" || (kind === "map-reduce" && outputs.length === 1) ? (values)[0] : values;
    print(await outputLine(fx, futures, value, parseNumberOption(o.maxResultBytes, "--max-result-bytes", 0, true) ?? DEFAULT_MAX_RESULT_BYTES));
    if (o.cleanData === true) await fx.clean();
  } catch (err) {
    reportFailure(err, futures);
    throw err;
  } finally {
    signals.remove();
  }
}

/**
 * Run one job command.
 * @throws TswrenError for bad options or inputs (before anything runs), RemoteFunctionError when
 *   a call fails, `TSWREN_CANCELLED` on SIGTERM / SIGINT
 */
export async function jobCommand(kind: JobKind, o: JobCommandOptions, print: Print): Promise<void> {
  if (!o.wait && o.cleanData === true) throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren ${kind}: --clean-data needs the results: drop --no-wait`);
  const workDir = mkdtempSync(path.join(tmpdir(), "tswren-cli-job-"));
  try {
    const p = await prepare(kind, o, workDir);
    const fx = new FunctionExecutor(executorOptions(o));
    if (!o.wait && fx.config.tswren.backend === "localhost") {
      throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren ${kind}: --no-wait needs a serverless backend; localhost calls run in this command's worker processes and stop when it exits (drop --no-wait)`);
    }
    try {
      await runWith(kind, o, print, fx, p);
    } finally {
      await fx.close();
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function addOptions(sub: Command, kind: JobKind): void {
  sub
    .option("-m, --module <module>", "module file of the function (.ts/.js), optionally with #export: jobs/wc.ts#countWords")
    .option("-e, --export <name>", "exported function name (default: from #export, else default)")
    .option("--root <dir>", "folder relative module paths resolve from (default: the current folder)");
  if (kind === "call-async") sub.option("-d, --data <json>", "the function's input as JSON, or @file.json");
  sub.option("-i, --iterdata <json>", kind === "call-async" ? "same as --data" : "JSON array of inputs, @file.json, or a storage URL string for a data job");
  if (kind === "map-reduce") {
    sub
      .option("--reduce-module <module>", "module of the reducer, optionally with #export (default: the map module)")
      .option("--reduce-export <name>", "exported reducer name")
      .option("--reducer-one-per-object", "data jobs: one reducer per object")
      .option("--reducer-wait-local", "wait for the map results here before starting the reducer");
  }
  sub
    .option("--extra-args <json>", "JSON object merged into every (object) input")
    .option("--extra-env <json>", "JSON object of environment variables for the function")
    .option("--chunk-size <bytes>", "data jobs: bytes per part")
    .option("--chunk-n <n>", "data jobs: parts per object")
    .option("--remote-invocation", "invoke the calls from inside the platform (OpenWhisk)")
    .option("--runtime-memory <mb>", "memory per call, MB")
    .option("--timeout <seconds>", "seconds a call may run")
    .option("--retries <n>", "re-run a failed call up to n times")
    .option("--config-file <file>", "tswren config file (default: $TSWREN_CONFIG_FILE, ./.tswren_config, ~/.tswren/config)")
    .option("-b, --backend <name>", "compute backend (default: from config)")
    .option("-s, --storage <name>", "storage backend (default: from config)")
    .option("--no-fetch-result", "print a JSON job reference instead of the results (the job data is kept)")
    .option("--no-wait", "print the job reference right after submission (serverless backends)")
    .option("--clean-data", "delete the job's data from storage after reading the results")
    .option("--include-modules <list>", "comma-separated npm packages the function may bundle (default: any)")
    .option("--exclude-modules <list>", "comma-separated npm packages left out of the function bundle")
    .option("--max-result-bytes <n>", `results larger than this are stored in object storage and referenced (default ${DEFAULT_MAX_RESULT_BYTES})`);
}

/** Add `map`, `call-async` and `map-reduce` to the CLI program. */
export function registerJobCommands(cmd: Command, print: Print): void {
  const about: Record<JobKind, string> = {
    "map": "run a module's exported function over every input: tswren map -m jobs/x.ts#fn -i '[1,2,3]'",
    "call-async": "run a module's exported function once: tswren call-async -m jobs/x.ts#fn -d '{\"n\": 3}'",
    "map-reduce": "map, then a reducer over all map results: tswren map-reduce -m jobs/x.ts#fn --reduce-export sum -i '[1,2]'",
  };
  for (const kind of ["map", "call-async", "map-reduce"] as const) {
    const sub = cmd.command(kind).description(about[kind]);
    addOptions(sub, kind);
    sub.action((opts: JobCommandOptions) => jobCommand(kind, opts, print));
  }
}
