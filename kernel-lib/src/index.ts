/**
 * tswren: run a function over thousands of inputs in parallel on local worker processes or
 * serverless functions, with data in object storage. Public API.
 */
import { FunctionExecutor } from "./executor.js";
import type { ExecutorOptions } from "./executor-options.js";
import type { ResponseFuture } from "./future.js";
import type { JobRef } from "./jobs/attach.js";
import { installNotebookProgress } from "./notebook/activate.js";

// In a notebook (tswren kernel, or stock tslab), waits show live progress displays.
installNotebookProgress();

export { FunctionExecutor } from "./executor.js";
export type { UserFunction } from "./executor.js";
export type { ExecutorOptions } from "./executor-options.js";
export type { CallOptions, MapReduceOptions } from "./job/options.js";
export type { GetResultOptions } from "./results.js";
export type { CompletedResult } from "./completed.js";
export type { CostReport, CostPrices } from "./cost.js";
export type { WaitOptions, ReturnWhen } from "./wait.js";
export type { CallContext } from "./context.js";
export { ResponseFuture } from "./future.js";
export { objects, ObjectsInput } from "./data/objects.js";
export { CloudObject } from "./data/cloud-object.js";
export type { FutureState } from "./future.js";
export type { CallStats } from "./protocol.js";
export { Storage } from "./storage/storage.js";
export type { BucketInfo, CloudObjectRef } from "./storage/storage.js";
export type { ObjectInfo, ByteRange } from "./storage/backend.js";
export { TswrenError, RemoteFunctionError, ErrorCodes } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export { loadConfig, redactConfig } from "./config/index.js";
export type { TswrenConfig } from "./config/index.js";
export { TSWREN_VERSION } from "./version.js";
export type { PlotOptions, PlotResult } from "./plot/plot.js";
export type { VegaLiteSpec } from "./plot/plot-specs.js";
export { showVegaLite, VEGA_LITE_MIME } from "./plot/show-chart.js";
export type { ShowChartOptions, ChartDisplay } from "./plot/show-chart.js";
export { PROGRESS_MIME } from "./notebook/progress-model.js";
export type { ProgressPayload } from "./notebook/progress-model.js";
export { notebookExecutor } from "./notebook/cells.js";
export type { JobRef } from "./jobs/attach.js";
export { listJobs } from "./jobs/job-list.js";
export type { JobSummary, JobState } from "./jobs/job-list.js";

/**
 * Create an executor on the configured backend (config file, `TSWREN_CONFIG`, then `options`);
 * with no config at all it runs on local worker processes with local storage.
 * @example
 * const fx = functionExecutor();
 * await fx.map((x: number) => x + 7, [1, 2, 3, 4]);
 * await fx.getResult(); // [8, 9, 10, 11]
 * @throws TswrenError `TSWREN_BAD_OPTION`, `TSWREN_CONFIG_*`
 */
export function functionExecutor(options: ExecutorOptions = {}): FunctionExecutor {
  return new FunctionExecutor(options);
}

/**
 * Futures of a job another process (or a kernel before it restarted) submitted, found by its
 * record in the configured storage; they wait, give results and show progress like the
 * futures of `map`. Read them with `getResult` of any executor, or `future.result()`.
 * On localhost and docker, calls die with the process that submitted them
 * (`TSWREN_JOB_DIED_WITH_CLIENT`).
 * @param jobRef - `"<executorId>-<jobId>"` as `tswren jobs` lists it, or a future's ids
 * @param options - where the job's storage is (config file, `config`, `storage`...), as for `functionExecutor`
 * @example
 * const futures = await attach("9f86d081884c7d65-0-M000");
 * console.log(await Promise.all(futures.map((f) => f.result())));
 * @throws TswrenError `TSWREN_BAD_INPUT` (not a job reference), `TSWREN_NO_SUCH_JOB`
 */
export async function attach<R = unknown>(jobRef: JobRef, options: ExecutorOptions = {}): Promise<ResponseFuture<R>[]> {
  const { attachJob } = await import("./jobs/attach.js");
  return (await attachJob(new FunctionExecutor(options).config, jobRef)).futures as ResponseFuture<R>[];
}

/**
 * Create an executor on local worker processes (whatever the config file selects).
 * @example
 * await using fx = localExecutor({ workers: 4 });
 */
export function localExecutor(options: Omit<ExecutorOptions, "backend"> = {}): FunctionExecutor {
  return new FunctionExecutor({ ...options, backend: "localhost" });
}

/**
 * Create an executor on AWS Lambda (section `aws_lambda`; credentials and region from the
 * standard AWS chain), with storage as configured (AWS S3: `storage: "s3"`).
 * @example
 * const fx = awsLambdaExecutor({ storage: "s3", storageBucket: "my-bucket" });
 * await fx.map((x: number) => x * 2, [1, 2, 3]);
 * @throws TswrenError `TSWREN_BAD_OPTION`, `TSWREN_CONFIG_*`
 */
export function awsLambdaExecutor(options: Omit<ExecutorOptions, "backend"> = {}): FunctionExecutor {
  return new FunctionExecutor({ ...options, backend: "aws_lambda" });
}

/** Options of {@link dockerExecutor}: the executor's options plus the image to run. */
export interface DockerExecutorOptions extends Omit<ExecutorOptions, "backend"> {
  /** Image the containers run (`docker.runtime`); default `tswren-runtime:<tswren version>`. */
  runtime?: string;
}

/**
 * Create an executor whose calls run in containers of a local Docker engine (backend `docker`):
 * one long-lived container per worker slot, memory-limited to `runtimeMemory`, with localhost
 * storage (bind-mounted) by default. See docs/backends/docker.md.
 * @param options - executor options; `runtime` names the image, `workers` the container slots
 * @throws TswrenError `TSWREN_COMPUTE_UNREACHABLE` (no engine), `TSWREN_RUNTIME_MISSING` (no image),
 *   `TSWREN_CONFIG_BAD_VALUE` (memory below the minimum), when the first job is submitted
 * @example
 * await using fx = dockerExecutor({ runtime: "tswren-runtime:0.1.0", runtimeMemory: 256 });
 * await fx.map((x: number) => x + 7, [1, 2, 3]);
 */
export function dockerExecutor(options: DockerExecutorOptions = {}): FunctionExecutor {
  const { runtime, ...rest } = options;
  if (runtime === undefined) return new FunctionExecutor({ ...rest, backend: "docker" });
  const config = rest.config ?? {};
  const section = (config["docker"] ?? {}) as Record<string, unknown>;
  return new FunctionExecutor({ ...rest, backend: "docker", config: { ...config, docker: { ...section, runtime } } });
}
