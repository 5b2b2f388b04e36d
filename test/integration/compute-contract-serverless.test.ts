/**
 * The compute contract on the serverless backends: the OpenWhisk emulator running the real
 * runtime action through the real action proxy, and the local Knative runtime server; job data
 * in the suite's MinIO.
 */
import { computeContract } from "../contract/compute.contract.js";
import { serverlessFixture, type Platform } from "../helpers/serverless.js";

const platforms = serverlessFixture();

const SERVERLESS_SKIPS = {
  oom: "the emulator and the local Knative server run actions as plain processes without a memory limit (no cgroup), so nothing ends a call at runtimeMemory",
} as const;

for (const platform of ["openwhisk", "knative"] as const satisfies readonly Platform[]) {
  computeContract(platform, () => ({
    executor: (options) => platforms.executor(platform, platform === "openwhisk" ? { chunksize: 1 } : {}, options),
    // The fixture closes its executors and stops the platforms after the file.
    dispose: () => Promise.resolve(),
    // The local Knative server is one process: the crash case kills it.
    afterCrash: () => (platform === "knative" ? platforms.restartKnative() : Promise.resolve()),
  }), SERVERLESS_SKIPS);
}
