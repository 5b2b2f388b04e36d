/**
 * What a failed OpenWhisk REST request means, and the coded error to raise for it. The npm
 * client rejects with an `OpenWhiskError` carrying `statusCode` (absent for network failures)
 * and the response body as `error`.
 */
import { ErrorCodes, TswrenError } from "../../errors.js";

/** The kinds of failure the backend treats differently. */
export type WhiskFailureKind =
  | "throttled" // 429: too many concurrent activations or invocations per minute
  | "network" // no HTTP answer: connection refused/reset, DNS, timeout
  | "server" // 5xx: the platform is unwell for a moment
  | "missing" // 404: action (or package) does not exist
  | "credentials" // 401/403
  | "too-large" // 413: payload over the platform's limit
  | "refused"; // any other 4xx

/** A classified failure of one REST request. */
export interface WhiskFailure {
  kind: WhiskFailureKind;
  /** HTTP status, absent for network failures. */
  status?: number;
  /** The platform's (or the network's) words, secrets removed. */
  detail: string;
}

function bodyError(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return typeof body === "string" && body !== "" ? body : undefined;
  const error = (body as Record<string, unknown>)["error"];
  return typeof error === "string" ? error : undefined;
}

/** Remove every occurrence of the secrets from text. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== "") out = out.split(secret).join("<hidden>");
  return out;
}

/**
 * Classify an error thrown by the `openwhisk` client.
 * @param err - what the client rejected with
 * @param secrets - values to remove from the detail text
 */
export function classifyWhiskError(err: unknown, secrets: readonly string[] = []): WhiskFailure {
  const e = (typeof err === "object" && err !== null ? err : {}) as { statusCode?: unknown; error?: unknown; message?: unknown };
  const message = typeof e.message === "string" ? e.message : String(err);
  const status = typeof e.statusCode === "number" ? e.statusCode : undefined;
  const detail = redactSecrets(bodyError(e.error) ?? message.replace(/^Unknown Error From API: /, ""), secrets);
  if (status === undefined) return { kind: "network", detail };
  if (status === 429) return { kind: "throttled", status, detail };
  if (status === 404) return { kind: "missing", status, detail };
  if (status === 401 || status === 403) return { kind: "credentials", status, detail };
  if (status === 413) return { kind: "too-large", status, detail };
  if (status >= 500) return { kind: "server", status, detail };
  return { kind: "refused", status, detail };
}

/** Where a failure happened, for messages. */
export interface FailureContext {
  /** Config key holding the credentials, e.g. `openwhisk.api_key` (never its value). */
  keyName: string;
  endpoint: string;
  /** What was being done, e.g. `invoking tswren/tswren-runtime-0.1.0-256mb for job abc123-0/M000`. */
  doing: string;
  /** Config section of the backend, for remedies. */
  section: string;
}

/**
 * The coded error for a failure that is final (not retried any more).
 * @returns a {@link TswrenError} naming what was being done, the platform's words and the remedy
 */
export function whiskError(failure: WhiskFailure, ctx: FailureContext, cause?: unknown): TswrenError {
  const http = failure.status === undefined ? "" : `HTTP ${failure.status}: `;
  const words = `${http}${failure.detail}`;
  switch (failure.kind) {
    case "credentials":
      return new TswrenError(
        ErrorCodes.COMPUTE_CREDENTIALS,
        `${ctx.endpoint} refused the credentials while ${ctx.doing} (${words}); check \`${ctx.keyName}\` (and \`${ctx.section}.namespace\`) in the config`,
        { cause },
      );
    case "network":
      return new TswrenError(
        ErrorCodes.COMPUTE_UNREACHABLE,
        `cannot reach ${ctx.endpoint} while ${ctx.doing} (${words}); check \`${ctx.section}.endpoint\` and the network`,
        { cause },
      );
    case "throttled":
      return new TswrenError(
        ErrorCodes.COMPUTE_THROTTLED,
        `${ctx.endpoint} kept throttling while ${ctx.doing} (${words}); lower \`${ctx.section}.max_workers\` or raise the namespace's limits`,
        { cause },
      );
    case "too-large":
      return new TswrenError(
        ErrorCodes.COMPUTE,
        `${ctx.endpoint} refused a payload over its size limit while ${ctx.doing} (${words}); lower \`${ctx.section}.chunksize\` or pass large inputs through storage (objects(...))`,
        { cause },
      );
    case "missing":
    case "server":
    case "refused":
      return new TswrenError(ErrorCodes.COMPUTE, `${ctx.endpoint} failed while ${ctx.doing} (${words})`, { cause });
  }
}
