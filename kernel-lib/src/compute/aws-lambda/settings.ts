/**
 * Settings of the `aws_lambda` backend, read from its validated config section, and the names
 * and tags of the functions tswren deploys: one function per (runtime, memory, tswren version).
 */
import type { ConfigSection } from "../../config/types.js";
import { ErrorCodes, TswrenError } from "../../errors.js";
import { TSWREN_VERSION } from "../../version.js";

/** The managed runtime the functions use. */
export const LAMBDA_RUNTIME = "nodejs20.x";
/** The role tswren creates (`--create-role`) and uses when `role_arn` is unset. */
export const DEFAULT_ROLE_NAME = "tswren-lambda-role";
/** Tag keys on every function tswren deploys. */
export const TAGS = { managed: "tswren:managed", version: "tswren:version", runtime: "tswren:runtime", memory: "tswren:memory", keyId: "tswren:signing-key-id" } as const;

/** Typed settings of the `aws_lambda` section. */
export interface LambdaSettings {
  region: string | undefined;
  endpoint: string | undefined;
  profile: string | undefined;
  memoryMb: number;
  timeoutS: number;
  architecture: "x86_64" | "arm64";
  ephemeralStorageMb: number;
  roleArn: string | undefined;
  createRole: boolean;
  functionPrefix: string;
  tags: Record<string, string>;
  subnetIds: string[];
  securityGroupIds: string[];
  invokePoolThreads: number;
  maxWorkers: number;
  remoteInvoker: boolean;
  chunksize: number;
}

function list(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * Parse `key=value,key2=value2`.
 * @throws TswrenError `TSWREN_CONFIG_BAD_VALUE` for an entry without `=`
 */
export function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const entry of list(text)) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new TswrenError(ErrorCodes.CONFIG_BAD_VALUE, `aws_lambda.tags: "${entry}" is not key=value; write tags as key=value,key2=value2`);
    tags[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return tags;
}

/**
 * Read the settings of a validated `aws_lambda` section (defaults applied by the loader).
 * @throws TswrenError `TSWREN_CONFIG_BAD_VALUE` for malformed tags
 */
export function lambdaSettings(config: ConfigSection<"aws_lambda">): LambdaSettings {
  return {
    region: config.region,
    endpoint: config.endpoint?.replace(/\/+$/, ""),
    profile: config.profile,
    memoryMb: config.runtime_memory,
    timeoutS: config.runtime_timeout,
    architecture: config.architecture,
    ephemeralStorageMb: config.ephemeral_storage,
    roleArn: config.role_arn,
    createRole: config.create_role,
    functionPrefix: config.function_prefix,
    tags: parseTags(config.tags),
    subnetIds: list(config.vpc_subnet_ids),
    securityGroupIds: list(config.vpc_security_group_ids),
    invokePoolThreads: config.invoke_pool_threads,
    maxWorkers: config.max_workers,
    remoteInvoker: config.remote_invoker,
    chunksize: config.chunksize,
  };
}

/**
 * Name of the function for a memory size: `<prefix>-nodejs20-<version>-<memory>mb[-arm64]`,
 * e.g. `tswren-nodejs20-0-1-0-256mb` (Lambda names allow letters, digits, `-`, `_`).
 */
export function functionName(settings: Pick<LambdaSettings, "functionPrefix" | "architecture">, memoryMb: number): string {
  const runtime = LAMBDA_RUNTIME.replace(/\.x$/, "").replace(/[^A-Za-z0-9]/g, "");
  const version = TSWREN_VERSION.replace(/[^A-Za-z0-9]/g, "-");
  const arch = settings.architecture === "arm64" ? "-arm64" : "";
  return `${settings.functionPrefix}-${runtime}-${version}-${memoryMb}mb${arch}`.slice(0, 64);
}

/**
 * The tags of a deployed function (the section's own tags first, tswren's win).
 * @param keyId - id (never the key) of the signing key the function was deployed with
 */
export function functionTags(settings: Pick<LambdaSettings, "tags">, memoryMb: number, keyId: string): Record<string, string> {
  return { ...settings.tags, [TAGS.managed]: "true", [TAGS.version]: TSWREN_VERSION, [TAGS.runtime]: LAMBDA_RUNTIME, [TAGS.memory]: String(memoryMb), [TAGS.keyId]: keyId };
}
