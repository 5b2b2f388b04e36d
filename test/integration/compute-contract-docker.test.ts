/**
 * The compute contract on the docker backend: a real private dockerd (test/services/docker.sh),
 * the test image imported from local files, job data in localhost storage mounted into the
 * containers.
 */
import { afterAll, beforeAll } from "vitest";
import { dockerExecutor, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { computeContract } from "../contract/compute.contract.js";
import { tempDir } from "../helpers/executor.js";
import { startDocker, type DockerService } from "../services/docker.js";

const root = tempDir("compute-contract-docker");
let svc: DockerService | undefined;

beforeAll(async () => {
  svc = await startDocker();
}, 600_000);

afterAll(async () => {
  await svc?.stop();
});

/** Cases that fail on docker today: each is a known gap, listed with what happens instead. */
const KNOWN_GAPS = {} as const;

computeContract("docker", () => {
  const made: FunctionExecutor[] = [];
  return {
    executor(options = {}) {
      if (svc === undefined) throw new Error("the docker engine did not start");
      const fx = dockerExecutor({
        runtime: svc.image, workers: 2, dataCleaner: false, runtimeMemory: 256, ...options,
        config: { docker: { docker_host: svc.dockerHost }, localhost_storage: { storage_root: root } },
      });
      made.push(fx);
      return fx;
    },
    async dispose() {
      await Promise.all(made.map((fx) => fx.close()));
    },
  };
}, KNOWN_GAPS);
