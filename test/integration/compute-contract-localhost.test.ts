/** The compute contract on the localhost worker pool, with localhost storage in a temp folder. */
import type { FunctionExecutor } from "../../kernel-lib/src/index.js";
import { computeContract } from "../contract/compute.contract.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

const root = tempDir("compute-contract");

computeContract("localhost", () => {
  const made: FunctionExecutor[] = [];
  return {
    executor(options = {}) {
      const fx = testExecutor(root, { ...options, config: { localhost: { worker_processes: 2 } } });
      made.push(fx);
      return fx;
    },
    async dispose() {
      await Promise.all(made.map((fx) => fx.close()));
    },
  };
});
