/**
 * Vitest global setup: one real MinIO server for the whole run, built on first use by
 * `test/services/minio.sh` (the first build takes minutes; global setup has no hook timeout, so it
 * happens here rather than in a test's `beforeAll`). Tests read its address and credentials with
 * `inject("minio")`; the server stops when the run ends (or when the vitest process dies).
 *
 * `TSWREN_TEST_MINIO=0` skips it; tests that need MinIO then start their own.
 */
import type { TestProject } from "vitest/node";
import { startMinio } from "./services/minio.js";

/** Where the suite's MinIO server listens and how to sign in (per-run credentials). */
export interface MinioEndpoint {
  /** `http://127.0.0.1:<port>`; use path-style addressing. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The suite's MinIO server, or undefined when `TSWREN_TEST_MINIO=0`. */
    minio: MinioEndpoint | undefined;
  }
}

/**
 * Start MinIO and provide its endpoint to every test file.
 * @param project - the vitest project
 * @returns the teardown, which stops the server
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env["TSWREN_TEST_MINIO"] === "0") {
    project.provide("minio", undefined);
    return () => Promise.resolve();
  }
  const server = await startMinio();
  const { endpoint, accessKey, secretKey, region } = server;
  project.provide("minio", { endpoint, accessKey, secretKey, region });
  return () => server.stop();
}
