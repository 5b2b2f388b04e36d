/**
 * Settings of the OpenWhisk-style backends (`openwhisk`, `ibm_cf`) read from their validated
 * config section, the runtime action's name, and where the runtime action zip lives.
 */
import { ErrorCodes, TswrenError } from "../../errors.js";
import { TSWREN_VERSION } from "../../version.js";
import { runtimeFile } from "../runtime-files.js";

/** The config sections served by the OpenWhisk backend. */
export type WhiskSection = "openwhisk" | "ibm_cf";

/** How the client authenticates: a namespace key (Basic) or an IBM IAM API key (Bearer token). */
export type WhiskAuth = { kind: "basic"; apiKey: string; keyName: string } | { kind: "iam"; iamApiKey: string; keyName: string };

/** Typed settings of one OpenWhisk-style backend. */
export interface WhiskSettings {
  /** Config section the settings came from (named in error messages). */
  section: WhiskSection;
  /** API host URL, e.g. `https://openwhisk.example.com`. */
  endpoint: string;
  /** Namespace in API paths (`_` = the key's own namespace). */
  namespace: string;
  auth: WhiskAuth;
  /** Base name of the runtime action; the memory size is appended. */
  runtimeName: string;
  /** Package holding the runtime actions. */
  packageName: string;
  /** Default memory of an activation (MB). */
  memoryMb: number;
  /** Time limit of an activation (s). */
  timeoutS: number;
  /** Invoke requests in flight at once. */
  invokePoolThreads: number;
  /** Most activations running at once (the remote invoker's fan-out concurrency is capped by it). */
  maxWorkers: number;
  /** Skip TLS certificate checks. */
  insecure: boolean;
  /** Send jobs through the remote invoker by default. */
  remoteInvoker: boolean;
  /** Calls per activation. */
  chunksize: number;
}

/** Package of the runtime actions. */
export const RUNTIME_PACKAGE = "tswren";

/** Annotation holding the tswren version the action was deployed from. */
export const VERSION_ANNOTATION = "tswren-version";

/** Default runtime base name: `tswren-runtime-<version>`. */
export const DEFAULT_RUNTIME_NAME = `tswren-runtime-${TSWREN_VERSION}`;

function str(config: Record<string, unknown>, key: string): string | undefined {
  const v = config[key];
  return typeof v === "string" && v !== "" ? v : undefined;
}

function num(config: Record<string, unknown>, key: string, fallback: number): number {
  const v = config[key];
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function bool(config: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = config[key];
  return typeof v === "boolean" ? v : fallback;
}

function readAuth(section: WhiskSection, config: Record<string, unknown>): WhiskAuth {
  const apiKey = str(config, "api_key");
  const iamApiKey = str(config, "iam_api_key");
  if (apiKey !== undefined) return { kind: "basic", apiKey, keyName: `${section}.api_key` };
  if (section === "ibm_cf" && iamApiKey !== undefined) return { kind: "iam", iamApiKey, keyName: `${section}.iam_api_key` };
  const keys = section === "ibm_cf" ? "`ibm_cf.api_key` or `ibm_cf.iam_api_key`" : "`openwhisk.api_key`";
  throw new TswrenError(ErrorCodes.COMPUTE_CREDENTIALS, `the ${section} backend needs credentials: set ${keys} in the config`);
}

/**
 * Read the settings of a validated `openwhisk` or `ibm_cf` section (defaults already applied by
 * the config loader; missing values fall back to the schema defaults).
 * @param section - which section `config` is
 * @param config - the section's keys, snake_case
 * @throws TswrenError `TSWREN_COMPUTE_CREDENTIALS` without a key, `TSWREN_CONFIG_BAD_VALUE` without an endpoint
 */
export function whiskSettings(section: WhiskSection, config: Record<string, unknown>): WhiskSettings {
  const endpoint = str(config, "endpoint");
  if (endpoint === undefined) {
    throw new TswrenError(ErrorCodes.CONFIG_BAD_VALUE, `${section}.endpoint is required: set the API host URL of the platform, e.g. https://openwhisk.example.com`);
  }
  const runtime = str(config, "runtime") ?? DEFAULT_RUNTIME_NAME;
  const slash = runtime.indexOf("/");
  return {
    section,
    endpoint: endpoint.replace(/\/+$/, ""),
    namespace: str(config, "namespace_id") ?? str(config, "namespace") ?? "_",
    auth: readAuth(section, config),
    packageName: slash > 0 ? runtime.slice(0, slash) : RUNTIME_PACKAGE,
    runtimeName: slash > 0 ? runtime.slice(slash + 1) : runtime,
    memoryMb: num(config, "runtime_memory", 256),
    timeoutS: num(config, "runtime_timeout", 300),
    invokePoolThreads: Math.max(1, Math.floor(num(config, "invoke_pool_threads", 64))),
    maxWorkers: Math.max(1, Math.floor(num(config, "max_workers", 100))),
    insecure: bool(config, "insecure", false),
    remoteInvoker: bool(config, "remote_invoker", false),
    chunksize: Math.max(1, Math.floor(num(config, "chunksize", 1))),
  };
}

/**
 * Name of the runtime action for a memory size, package included:
 * `tswren/tswren-runtime-<version>-<memory>mb` by default.
 */
export function runtimeActionName(settings: Pick<WhiskSettings, "packageName" | "runtimeName">, memoryMb: number): string {
  return `${settings.packageName}/${settings.runtimeName}-${memoryMb}mb`;
}

/**
 * Path of the runtime action zip built by `npm run build` (`dist/runtime/openwhisk-action.zip`
 * inside the tswren package).
 * @throws TswrenError `TSWREN_RUNTIME_MISSING` when the build has not produced it
 */
export function runtimeZipPath(): string {
  return runtimeFile("openwhisk-action.zip");
}
