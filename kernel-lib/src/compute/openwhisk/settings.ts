/**
 * Settings of the OpenWhisk-style backends (`openwhisk`, `ibm_cf`) read from their validated
 * config section, the runtime action's name, and where the runtime action zip lives.
 */
import type { ConfigSection } from "../../config/types.js";
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

/** A loaded `openwhisk` or `ibm_cf` section, tagged with its name. */
export type WhiskConfig =
  | { section: "openwhisk"; config: ConfigSection<"openwhisk"> }
  | { section: "ibm_cf"; config: ConfigSection<"ibm_cf"> };

/** A set string, or undefined for an absent or empty one. */
function set(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}

function readAuth(whisk: WhiskConfig): WhiskAuth {
  const { section, config } = whisk;
  const apiKey = set(config.api_key);
  if (apiKey !== undefined) return { kind: "basic", apiKey, keyName: `${section}.api_key` };
  const iamApiKey = whisk.section === "ibm_cf" ? set(whisk.config.iam_api_key) : undefined;
  if (iamApiKey !== undefined) return { kind: "iam", iamApiKey, keyName: `${section}.iam_api_key` };
  const keys = section === "ibm_cf" ? "`ibm_cf.api_key` or `ibm_cf.iam_api_key`" : "`openwhisk.api_key`";
  throw new TswrenError(ErrorCodes.COMPUTE_CREDENTIALS, `the ${section} backend needs credentials: set ${keys} in the config`);
}

/** The keys only `openwhisk` has; `ibm_cf` always runs with TLS checks, one call per activation, from the client. */
function openwhiskOnly(whisk: WhiskConfig): Pick<WhiskSettings, "insecure" | "remoteInvoker" | "chunksize"> {
  if (whisk.section === "ibm_cf") return { insecure: false, remoteInvoker: false, chunksize: 1 };
  return { insecure: whisk.config.insecure, remoteInvoker: whisk.config.remote_invoker, chunksize: whisk.config.chunksize };
}

/**
 * Read the settings of a loaded `openwhisk` or `ibm_cf` section (defaults applied by the config
 * loader or `validateSection`).
 * @param whisk - the section and its name
 * @throws TswrenError `TSWREN_COMPUTE_CREDENTIALS` without a key
 */
export function whiskSettings(whisk: WhiskConfig): WhiskSettings {
  const { section, config } = whisk;
  const runtime = set(config.runtime) ?? DEFAULT_RUNTIME_NAME;
  const slash = runtime.indexOf("/");
  const namespaceId = whisk.section === "ibm_cf" ? set(whisk.config.namespace_id) : undefined;
  return {
    section,
    endpoint: config.endpoint.replace(/\/+$/, ""),
    namespace: namespaceId ?? set(config.namespace) ?? "_",
    auth: readAuth(whisk),
    packageName: slash > 0 ? runtime.slice(0, slash) : RUNTIME_PACKAGE,
    runtimeName: slash > 0 ? runtime.slice(slash + 1) : runtime,
    memoryMb: config.runtime_memory,
    timeoutS: config.runtime_timeout,
    invokePoolThreads: config.invoke_pool_threads,
    maxWorkers: config.max_workers,
    ...openwhiskOnly(whisk),
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
