/** Test helpers for the suite's real MinIO server (started by the global setup). */
import { randomBytes } from "node:crypto";
import { afterAll, inject } from "vitest";
import type { MinioEndpoint } from "../global-setup.js";
import { startMinio, type MinioServer } from "../services/minio.js";

let ownMinio: MinioServer | undefined;
let minioReady: Promise<MinioEndpoint> | undefined;

/** The suite's MinIO (global setup), or one started for this file when there is none. */
export function suiteMinio(): Promise<MinioEndpoint> {
  if (minioReady === undefined) {
    minioReady = (async () => inject("minio") ?? (ownMinio = await startMinio()))();
    afterAll(async () => {
      await ownMinio?.stop();
    });
  }
  return minioReady;
}

/** The `minio` config section for a server. */
export const minioSection = (m: MinioEndpoint): Record<string, unknown> => ({
  endpoint: m.endpoint,
  access_key_id: m.accessKey,
  secret_access_key: m.secretKey,
  region: m.region,
});

/** A bucket name not used before in this run. */
export const freshBucket = (tag: string): string => `tswren-${tag}-${randomBytes(4).toString("hex")}`;
