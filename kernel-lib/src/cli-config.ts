/**
 * PyWren's workflow commands: `tswren config init` writes a config file from flags (or asks,
 * when run in a terminal), as PyWren's `create_config`; `tswren test` runs a call and a map on
 * the configured backend and checks their results, as PyWren's `test_function`.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { CONFIG_SCHEMA } from "./config/schema.js";
import { objectLayer } from "./config/sources.js";
import { validateConfig } from "./config/validate.js";
import { ErrorCodes, TswrenError } from "./errors.js";
import { FunctionExecutor } from "./executor.js";

type Print = (line: string) => void;

const COMPUTE_BACKENDS = ["localhost", "openwhisk", "ibm_cf", "knative", "aws_lambda", "docker"];

/** Flags of `tswren config init`. */
export interface ConfigInitOptions {
  /** Compute backend (`tswren.backend`). */
  backend?: string;
  /** Storage backend (`tswren.storage`; default `s3` for aws_lambda, else `localhost`). */
  storage?: string;
  /** `tswren.storage_bucket`. */
  bucket?: string;
  /** Region of the AWS backends (`aws_lambda.region` and `s3.region`). */
  region?: string;
  /** Any other key, `section.key=value` (value read as YAML: numbers, booleans). */
  set?: string[];
  /** The file to write (default `$TSWREN_CONFIG_FILE`, else `~/.tswren/config`). */
  file?: string;
  /** Overwrite an existing file. */
  force?: boolean;
}

/** Where `config init` writes by default: `$TSWREN_CONFIG_FILE`, else `~/.tswren/config`. */
export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return env["TSWREN_CONFIG_FILE"] ?? path.join(homedir(), ".tswren", "config");
}

function setKey(config: Record<string, Record<string, unknown>>, entry: string): void {
  const m = /^([a-z_]+)\.([a-z_]+)=(.*)$/s.exec(entry);
  if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren config init: --set ${JSON.stringify(entry)} is not section.key=value, e.g. --set aws_lambda.runtime_memory=512`);
  }
  const value: unknown = m[3] === "" ? "" : parseYaml(m[3]);
  (config[m[1]] ??= {})[m[2]] = value;
}

/**
 * The config object `config init` writes (not validated yet).
 * @throws TswrenError `TSWREN_BAD_OPTION` for a malformed `--set`
 */
export function initialConfig(o: ConfigInitOptions): Record<string, Record<string, unknown>> {
  const backend = o.backend ?? "localhost";
  const storage = o.storage ?? (backend === "aws_lambda" ? "s3" : "localhost");
  const config: Record<string, Record<string, unknown>> = { tswren: { backend, storage } };
  if (o.bucket !== undefined) config["tswren"] = { ...config["tswren"], storage_bucket: o.bucket };
  if (o.region !== undefined) {
    if (backend === "aws_lambda") config["aws_lambda"] = { region: o.region };
    if (storage === "s3") config["s3"] = { region: o.region };
  }
  for (const entry of o.set ?? []) setKey(config, entry);
  return config;
}

/** Ask for what the flags left out (only in a terminal). */
async function ask(o: ConfigInitOptions): Promise<ConfigInitOptions> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const backends = COMPUTE_BACKENDS.filter((s) => s in CONFIG_SCHEMA);
    const backend = o.backend ?? ((await rl.question(`compute backend (${backends.join(", ")}) [localhost]: `)).trim() || "localhost");
    const defaultStorage = backend === "aws_lambda" ? "s3" : "localhost";
    const storage = o.storage ?? ((await rl.question(`storage (localhost, s3, minio, ibm_cos) [${defaultStorage}]: `)).trim() || defaultStorage);
    const bucket = o.bucket ?? ((await rl.question("storage bucket [tswren-data for localhost]: ")).trim() || undefined);
    const region = o.region ?? (backend === "aws_lambda" || storage === "s3" ? (await rl.question("AWS region [from the AWS chain]: ")).trim() || undefined : undefined);
    return { ...o, backend, storage, ...(bucket !== undefined ? { bucket } : {}), ...(region !== undefined ? { region } : {}) };
  } finally {
    rl.close();
  }
}

/**
 * `tswren config init`: validate the config the flags describe (asking for missing ones in a
 * terminal), then write it as YAML (file 0600, folder 0700). Nothing is written when it is invalid.
 * @throws TswrenError `TSWREN_BAD_OPTION` when the file exists (without `--force`), config errors
 *   (`TSWREN_CONFIG_*`, naming the key to add) for an incomplete or wrong config
 * @example await configInit(console.log, { backend: "aws_lambda", bucket: "my-bucket" }) // PyWren's create_config
 */
export async function configInit(print: Print, options: ConfigInitOptions, interactive = process.stdin.isTTY && process.stdout.isTTY): Promise<string> {
  const o = interactive && (options.backend === undefined || options.bucket === undefined) ? await ask(options) : options;
  const file = path.resolve(o.file ?? defaultConfigFile());
  if (existsSync(file) && o.force !== true) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren config init: ${file} exists; pass --force to overwrite it, or --file <path> to write another file`);
  }
  const config = initialConfig(o);
  const validated = validateConfig([objectLayer("tswren config init flags", config)], { home: homedir(), cwd: process.cwd() });
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `# written by tswren config init\n${stringifyYaml(config)}`, { mode: 0o600 });
  const t = validated.tswren;
  print(`wrote ${file}: backend ${t.backend}, storage ${t.storage}, bucket ${t.storage_bucket}`);
  if (t.backend === "aws_lambda") print("next: tswren runtime deploy --backend aws_lambda --create-role, then tswren test");
  else print("next: tswren test");
  return file;
}

/**
 * `tswren test`: one call and a 10-item map on the configured backend, results checked.
 * @throws TswrenError `TSWREN_PROTOCOL` when a result is wrong, and any error of the backend
 */
export async function testCommand(print: Print, options: { backend?: string }): Promise<void> {
  const fx = new FunctionExecutor(options.backend !== undefined ? { backend: options.backend } : {});
  try {
    print(`tswren test on ${await fx.describe()}`);
    const started = Date.now();
    await fx.callAsync((x: number) => x + 1, 41);
    const one = await fx.getResult();
    const items = Array.from({ length: 10 }, (_, i) => i);
    const futures = await fx.map((x: number) => x * x, items);
    const squares = await fx.getResult(futures);
    const expected = items.map((x) => x * x);
    if (one !== 42 || JSON.stringify(squares) !== JSON.stringify(expected)) {
      throw new TswrenError(ErrorCodes.PROTOCOL, `tswren test: wrong results (call: ${String(one)}, map: ${JSON.stringify(squares)}); the runtime and client disagree: redeploy with \`tswren runtime deploy\``);
    }
    print(`call: 41 + 1 = ${String(one)}; map x*x over 0..9 = ${JSON.stringify(squares)}`);
    print(`tswren test: ok (${futures.length + 1} calls on ${new Set(futures.map((f) => f.workerId)).size} worker(s), ${Date.now() - started} ms)`);
  } finally {
    await fx.close();
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Add `config init` and `test` to the CLI program. */
export function registerConfigCommands(cmd: Command, print: Print): void {
  const config = cmd.command("config").description("write a tswren config file (PyWren's create_config)");
  config
    .command("init")
    .description("write a config file from flags (asks for missing ones in a terminal), e.g. `tswren config init --backend aws_lambda --bucket B`")
    .option("-b, --backend <name>", "compute backend (localhost, openwhisk, ibm_cf, knative, aws_lambda, docker)")
    .option("-s, --storage <name>", "storage backend (default s3 for aws_lambda, else localhost)")
    .option("--bucket <name>", "storage bucket")
    .option("--region <region>", "AWS region (aws_lambda and s3)")
    .option("--set <section.key=value>", "any other config key (repeatable)", collect)
    .option("-f, --file <path>", "file to write (default $TSWREN_CONFIG_FILE, else ~/.tswren/config)")
    .option("--force", "overwrite an existing file")
    .action(async (opts: ConfigInitOptions) => {
      await configInit(print, opts);
    });
  cmd
    .command("test")
    .description("run a call and a map on the configured backend and check the results (PyWren's test_function)")
    .option("-b, --backend <name>", "compute backend (default: from config, else localhost)")
    .action((opts: { backend?: string }) => testCommand(print, opts));
}
