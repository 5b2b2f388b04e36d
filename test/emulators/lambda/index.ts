/**
 * An AWS Lambda test platform on 127.0.0.1: moto (control plane) behind the Lambda router, which
 * runs invocations on pools of AWS's Runtime Interface Emulators with Lambda's invoke semantics.
 * See README.md.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startMoto, type MotoServer } from "../../services/moto.js";
import { installRie } from "../../services/rie.js";
import { LambdaRouter } from "./router.js";

export { LambdaRouter, EVENT_LIMIT_BYTES, SYNC_LIMIT_BYTES } from "./router.js";
export type { EventRecord, RouterStats } from "./router.js";
export { classify } from "./function-pool.js";

/** The runtime client the router's RIEs start (built by `npm run build`). */
export const DEFAULT_BOOTSTRAP = ["node", path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../kernel-lib/dist/runtime/aws-lambda-ric.mjs")];

/** A running platform. */
export interface LambdaPlatform {
  /** The endpoint for `@aws-sdk/client-lambda` and `@aws-sdk/client-iam` (`endpoint` option). */
  endpoint: string;
  /** moto itself. */
  moto: MotoServer;
  router: LambdaRouter;
  region: string;
  /** Stop the router, its RIEs and moto. */
  stop(): Promise<void>;
}

/** Options of {@link startLambdaPlatform}. */
export interface LambdaPlatformOptions {
  /** RIE processes per function version (default 4). */
  slots?: number;
  /** Asynchronous invocations waiting for a slot, per function (default 100 000). */
  eventQueueLimit?: number;
  /** The runtime's bootstrap command (default {@link DEFAULT_BOOTSTRAP}). */
  bootstrap?: string[];
  /** Extra environment of every runtime (e.g. `TSWREN_LOCALHOST_STORAGE_ROOT` for localhost storage). */
  env?: Record<string, string>;
}

/**
 * Start moto and the router (building the RIE and installing moto on first use).
 * @param options - pool sizes
 */
export async function startLambdaPlatform(options: LambdaPlatformOptions = {}): Promise<LambdaPlatform> {
  const [riePath, moto] = await Promise.all([installRie(), startMoto()]);
  const region = "us-east-1";
  const router = new LambdaRouter({
    motoEndpoint: moto.endpoint,
    region,
    riePath,
    bootstrap: options.bootstrap ?? DEFAULT_BOOTSTRAP,
    slots: options.slots ?? 4,
    eventQueueLimit: options.eventQueueLimit ?? 100_000,
    env: options.env ?? {},
  });
  await router.listen();
  return {
    endpoint: router.endpoint,
    moto,
    router,
    region,
    async stop() {
      await router.stop();
      await moto.stop();
    },
  };
}
