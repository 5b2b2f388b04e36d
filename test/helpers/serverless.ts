/**
 * Test fixture for end-to-end runs on the serverless backends: the OpenWhisk emulator (the real
 * runtime in its containers) and a Knative runtime server (a local process), with job data in
 * the suite's MinIO. Started before the file's tests, stopped (with every executor) after them.
 */
import { afterAll, beforeAll } from "vitest";
import { functionExecutor, type ExecutorOptions, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { startOpenWhiskEmulator, type OpenWhiskEmulator } from "../emulators/openwhisk/index.js";
import type { MinioEndpoint } from "../global-setup.js";
import { freshBucket, minioSection, suiteMinio } from "./minio.js";
import { startRuntimeProcess, type RuntimeProcess } from "./runtime-process.js";
import { TEST_SIGNING_KEY } from "./signing.js";

/** A serverless backend under test. */
export type Platform = "openwhisk" | "knative";

/** What a test file gets from {@link serverlessFixture}. */
export interface ServerlessFixture {
  /** The OpenWhisk emulator (valid inside tests). */
  readonly ow: OpenWhiskEmulator;
  /** The Knative runtime server (valid inside tests). */
  readonly knative: RuntimeProcess;
  /** Start a new Knative server (after a test killed it). */
  restartKnative(): Promise<void>;
  /**
   * An executor on `platform` with a fresh MinIO bucket, closed after the file.
   * @param extra - keys added to the platform's config section
   * @param options - executor options (`timeout`, `retries`, `monitoring`)
   */
  executor(platform: Platform, extra?: Record<string, unknown>, options?: Pick<ExecutorOptions, "timeout" | "retries" | "monitoring">): FunctionExecutor;
}

const startKnative = (): Promise<RuntimeProcess> => startRuntimeProcess("http-server.mjs", { TSWREN_CONCURRENCY: "2" });

/**
 * Start the platforms for this test file.
 * @param base - executor options every executor of the file gets (read when one is made);
 *   its `config` sections are merged into the fixture's
 */
export function serverlessFixture(base: () => ExecutorOptions = () => ({})): ServerlessFixture {
  let minio: MinioEndpoint | undefined;
  let ow: OpenWhiskEmulator | undefined;
  let knative: RuntimeProcess | undefined;
  const executors: FunctionExecutor[] = [];
  beforeAll(async () => {
    minio = await suiteMinio();
    ow = await startOpenWhiskEmulator({ invocationsPerMinute: 1_000_000, concurrentLimit: 8 });
    knative = await startKnative();
  });
  afterAll(async () => {
    for (const fx of executors) await fx.close();
    knative?.kill();
    await ow?.stop();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} did not start (see beforeAll)`);
    return value;
  };
  return {
    get ow() { return started(ow, "the OpenWhisk emulator"); },
    get knative() { return started(knative, "the Knative runtime server"); },
    async restartKnative() { knative = await startKnative(); },
    executor(platform, extra = {}, options = {}) {
      const whisk = started(ow, "the OpenWhisk emulator");
      const compute =
        platform === "openwhisk"
          ? { openwhisk: { endpoint: whisk.apihost, namespace: whisk.namespace, api_key: whisk.apiKey, invoke_pool_threads: 8, runtime_memory: 256, signing_key: TEST_SIGNING_KEY, ...extra } }
          : { knative: { url: started(knative, "the Knative runtime server").url, max_workers: 4, signing_key: TEST_SIGNING_KEY, ...extra } };
      const { config: baseConfig, ...baseOptions } = base();
      const fx = functionExecutor({
        backend: platform,
        storage: "minio",
        storageBucket: freshBucket(platform),
        dataCleaner: false,
        ...baseOptions,
        ...options,
        config: { tswren: { retry_sleeps: [0.05, 0.2] }, minio: minioSection(started(minio, "MinIO")), ...compute, ...baseConfig },
      });
      executors.push(fx);
      return fx;
    },
  };
}
