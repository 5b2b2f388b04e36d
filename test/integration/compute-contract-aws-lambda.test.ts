/**
 * The compute contract on the aws_lambda backend: the runtime zip deployed through moto and
 * invoked through the Lambda router, whose Runtime Interface Emulators run the real runtime; job
 * data in the suite's MinIO.
 */
import { afterAll, beforeAll } from "vitest";
import { functionExecutor, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { computeContract } from "../contract/compute.contract.js";
import { freshBucket, minioSection, suiteMinio } from "../helpers/minio.js";
import { startLambdaPlatform, type LambdaPlatform } from "../emulators/lambda/index.js";
import type { MinioEndpoint } from "../global-setup.js";

let platform: LambdaPlatform | undefined;
let minio: MinioEndpoint | undefined;
const saved = { id: process.env["AWS_ACCESS_KEY_ID"], secret: process.env["AWS_SECRET_ACCESS_KEY"] };

/** Restores one variable of the process environment to what it was before the file. */
function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) Reflect.deleteProperty(process.env, name);
  else process.env[name] = value;
}

beforeAll(async () => {
  // The standard AWS chain: credentials from the environment (moto checks no signature).
  process.env["AWS_ACCESS_KEY_ID"] = "testing";
  process.env["AWS_SECRET_ACCESS_KEY"] = "testing";
  [platform, minio] = await Promise.all([startLambdaPlatform({ slots: 4 }), suiteMinio()]);
}, 300_000);

afterAll(async () => {
  await platform?.stop();
  restoreEnv("AWS_ACCESS_KEY_ID", saved.id);
  restoreEnv("AWS_SECRET_ACCESS_KEY", saved.secret);
});

computeContract("aws_lambda", () => {
  const made: FunctionExecutor[] = [];
  return {
    executor(options = {}) {
      if (platform === undefined || minio === undefined) throw new Error("the Lambda platform or MinIO did not start");
      const fx = functionExecutor({
        backend: "aws_lambda", storage: "minio", storageBucket: freshBucket("contract-lambda"), dataCleaner: false, ...options,
        config: {
          tswren: { retry_sleeps: [0.05, 0.2] },
          minio: minioSection(minio),
          aws_lambda: { endpoint: platform.endpoint, region: platform.region, create_role: true, runtime_timeout: 20, invoke_pool_threads: 8 },
        },
      });
      made.push(fx);
      return fx;
    },
    async dispose() {
      await Promise.all(made.map((fx) => fx.close()));
    },
  };
});
