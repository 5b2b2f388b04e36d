/**
 * The `tswren` command line: `tswren hello` runs a call and a small map on the configured
 * backend and prints where they ran; `tswren clean` deletes job data left in storage;
 * `tswren runtime deploy|list|delete` manages the serverless runtime and `tswren logs <job>`
 * prints a job's function logs (both in `cli-runtime.ts`); `tswren jobs` lists recent jobs (`cli-jobs.ts`); `tswren kernel` is the Jupyter kernel and
 * `tswren kernel install` registers it; `tswren config init` and `tswren test` are PyWren's
 * `create_config` and `test_function` (`cli-config.ts`).
 */
import { Command, CommanderError } from "commander";
import { registerConfigCommands } from "./cli-config.js";
import { registerJobCommands } from "./cli-job.js";
import { registerJobListCommands } from "./cli-jobs.js";
import { registerRuntimeCommands } from "./cli-runtime.js";
import { installKernelSpec } from "./notebook/kernelspec.js";
import { loadConfig } from "./config/index.js";
import { ErrorCodes, TswrenError } from "./errors.js";
import { FunctionExecutor } from "./executor.js";
import { createSelectedStorage } from "./storage/registry.js";
import { TSWREN_VERSION } from "./version.js";

type Print = (line: string) => void;

/** `tswren hello`: one callAsync and a 4-item map, with what they ran on. */
export async function hello(print: Print, options: { backend?: string }): Promise<void> {
  const fx = new FunctionExecutor(options.backend !== undefined ? { backend: options.backend } : {});
  try {
    print(`tswren ${TSWREN_VERSION}, executor ${fx.executorId}`);
    print(`compute and storage: ${await fx.describe()}`);
    const started = Date.now();
    await fx.callAsync((name: string) => `Hello ${name}, from process ${process.pid} on node ${process.version}`, "World");
    print(`callAsync: ${String(await fx.getResult())}`);
    const futures = await fx.map((x: number) => x + 7, [1, 2, 3, 4]);
    print(`map(x => x + 7, [1, 2, 3, 4]) = ${JSON.stringify(await fx.getResult(futures))}`);
    const workers = new Set(futures.map((f) => f.workerId));
    print(`ran on: ${[...workers].join(", ")} in ${Date.now() - started} ms`);
  } finally {
    await fx.close();
  }
}

/** `tswren clean`: delete every key under the configured storage prefix (job data only). */
export async function clean(print: Print): Promise<void> {
  const config = loadConfig();
  const t = config.tswren;
  if (t.backend === "docker" && config.docker !== undefined) {
    const { cleanContainers } = await import("./compute/docker/reaper.js");
    print(await cleanContainers(config.docker));
  }
  const storage = await createSelectedStorage(config);
  try {
    if (!(await storage.bucketExists(t.storage_bucket))) {
      print(`nothing to clean: bucket ${t.storage_bucket} does not exist`);
      return;
    }
    const prefix = `${t.storage_prefix.replace(/\/+$/, "")}/`;
    const found = await storage.list(t.storage_bucket, prefix);
    await storage.deleteMany(t.storage_bucket, found.map((o) => o.key));
    print(`deleted ${found.length} objects under ${t.storage_bucket}/${prefix} (${t.storage} storage)`);
  } finally {
    await storage.close();
  }
}

interface KernelCommandOptions {
  configPath?: string;
  user?: boolean;
  prefix?: string;
  dataDir?: string;
}

/** `tswren kernel --config-path <file>` (started by Jupyter) and `tswren kernel install`. */
function registerKernelCommand(cmd: Command, print: Print): void {
  cmd
    .command("kernel")
    .description("start the tswren Jupyter kernel (Jupyter runs this), or `kernel install` to register it with Jupyter")
    .argument("[action]", "`install`: write the kernelspec \"TypeScript (tswren)\"")
    .option("--config-path <file>", "Jupyter connection file (given by Jupyter)")
    .option("--user", "install into the user's Jupyter data dir (default): $JUPYTER_DATA_DIR or ~/.local/share/jupyter")
    .option("--prefix <dir>", "install into <dir>/share/jupyter (e.g. a virtualenv's sys.prefix)")
    .option("--data-dir <dir>", "install into this Jupyter data dir")
    .action(async (action: string | undefined, opts: KernelCommandOptions) => {
      if (action === "install") {
        const file = installKernelSpec({ ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}), ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}) });
        print(`installed kernelspec tswren ("TypeScript (tswren)") in ${file}`);
        return;
      }
      if (action !== undefined) throw new TswrenError(ErrorCodes.BAD_INPUT, `unknown kernel action ${JSON.stringify(action)}; use \`tswren kernel install\` or \`tswren kernel --config-path <file>\``);
      const { startKernel } = await import("./notebook/kernel.js");
      await startKernel(opts.configPath ?? "");
    });
}

function program(print: Print): Command {
  const cmd = new Command("tswren").version(TSWREN_VERSION).description("Run functions over many inputs in parallel, PyWren/Lithops style.");
  cmd.exitOverride();
  cmd
    .command("hello")
    .description("run a call and a small map on the configured backend and print what it ran on")
    .option("-b, --backend <name>", "compute backend (default: from config, else localhost)")
    .action((opts: { backend?: string }) => hello(print, opts));
  cmd
    .command("clean")
    .description("delete tswren job data (function bundles, inputs, statuses, outputs) from storage")
    .action(() => clean(print));
  registerRuntimeCommands(cmd, print);
  registerConfigCommands(cmd, print);
  registerJobCommands(cmd, print);
  registerJobListCommands(cmd, print);
  registerKernelCommand(cmd, print);
  return cmd;
}

/**
 * Run the CLI with `argv` (without node and script); returns the exit code.
 * @example await main(["hello"])
 */
export async function main(argv: string[], print: Print = (l) => { console.log(l); }): Promise<number> {
  try {
    await program(print).parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const message = err instanceof TswrenError ? `${err.code}: ${err.message}` : String(err instanceof Error ? err.stack : err);
    process.stderr.write(`tswren: ${message}\n`);
    return 1;
  }
}
