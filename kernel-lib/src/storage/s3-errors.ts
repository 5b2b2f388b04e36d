/**
 * Translation of `@aws-sdk/client-s3` and network errors into {@link TswrenError}s with stable
 * codes and messages that say what to check. Messages name config keys, never their values.
 */
import { ErrorCodes, TswrenError } from "../errors.js";

/** The codes an S3 failure maps to. */
export type S3FailureCode =
  | typeof ErrorCodes.NO_SUCH_BUCKET
  | typeof ErrorCodes.NO_SUCH_KEY
  | typeof ErrorCodes.STORAGE_CREDENTIALS
  | typeof ErrorCodes.STORAGE_UNREACHABLE
  | typeof ErrorCodes.BAD_KEY
  | typeof ErrorCodes.STORAGE;

/** Where an S3 request went, for error messages. */
export interface S3ErrorContext {
  /** Config section of the store: `s3`, `ibm_cos` or `minio`. */
  section: string;
  /** The endpoint as shown to users (a URL, or `AWS S3 (region ...)`). */
  endpoint: string;
  /** The config keys that hold the credentials, e.g. `minio.access_key_id and minio.secret_access_key`. */
  credentialKeys: string;
  /** What was being done, e.g. `get`. */
  op: string;
  bucket?: string;
  key?: string;
}

/** The fields of SDK and Node network errors this module reads. */
interface ErrorFields {
  name: string;
  message: string;
  code: string | undefined;
  status: number | undefined;
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "EHOSTDOWN",
  "ENETUNREACH", "ENETDOWN", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_SOCKET", "ERR_STREAM_PREMATURE_CLOSE",
]);

const CREDENTIAL_NAMES = new Set([
  "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken",
  "TokenRefreshRequired", "InvalidSecurity", "Unauthorized", "Forbidden", "CredentialsProviderError",
]);

/** Errors that mean the configured region does not match the bucket's or the endpoint's. */
const REGION_NAMES = new Set(["PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"]);

function fieldsOf(err: unknown): ErrorFields {
  if (typeof err !== "object" || err === null) return { name: "Error", message: String(err), code: undefined, status: undefined };
  const e = err as { name?: unknown; message?: unknown; code?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const code = typeof e.code === "string" ? e.code : typeof e.Code === "string" ? e.Code : undefined;
  const status = typeof e.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined;
  return {
    name: typeof e.name === "string" ? e.name : "Error",
    message: typeof e.message === "string" ? e.message : "",
    code,
    status,
  };
}

/** The error and its `cause`s and `AggregateError` members, outermost first (bounded depth). */
function errorChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (depth > 4 || e === undefined || e === null) return;
    out.push(e);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, depth + 1);
    if (e instanceof Error) visit(e.cause, depth + 1);
  };
  visit(err, 0);
  return out;
}

/** True when `err` says the endpoint could not be reached or the connection broke. */
export function isNetworkError(err: unknown): boolean {
  return errorChain(err).some((e) => {
    const f = fieldsOf(e);
    if (f.code !== undefined && NETWORK_CODES.has(f.code)) return true;
    if (f.name === "TimeoutError" || f.name === "AbortError") return true;
    return f.status === undefined && /socket hang up|\baborted\b|other side closed|premature close/i.test(f.message);
  });
}

function where(ctx: S3ErrorContext): string {
  if (ctx.bucket === undefined) return "";
  return ctx.key === undefined ? ` bucket ${JSON.stringify(ctx.bucket)}` : ` ${JSON.stringify(`${ctx.bucket}/${ctx.key}`)}`;
}

function networkDetail(err: unknown): string {
  for (const e of errorChain(err)) {
    const f = fieldsOf(e);
    if (f.code !== undefined && NETWORK_CODES.has(f.code)) return f.code;
    if (f.name === "TimeoutError") return f.message || "timed out";
  }
  return fieldsOf(err).message || "connection failed";
}

/**
 * The code an S3 failure maps to (`TSWREN_STORAGE` when it is none of the specific ones).
 * A bare 404 (HEAD responses carry no error body) counts as a missing key.
 */
export function s3ErrorCode(err: unknown): S3FailureCode {
  const f = fieldsOf(err);
  if (f.name === "NoSuchBucket" || f.code === "NoSuchBucket") return ErrorCodes.NO_SUCH_BUCKET;
  if (f.name === "NoSuchKey" || f.code === "NoSuchKey" || f.name === "NotFound" || f.status === 404) return ErrorCodes.NO_SUCH_KEY;
  if (CREDENTIAL_NAMES.has(f.name) || f.status === 401 || f.status === 403) return ErrorCodes.STORAGE_CREDENTIALS;
  if (f.name === "InvalidBucketName" || f.name === "KeyTooLongError") return ErrorCodes.BAD_KEY;
  if (f.status === undefined && isNetworkError(err)) return ErrorCodes.STORAGE_UNREACHABLE;
  return ErrorCodes.STORAGE;
}

function credentialsMessage(err: unknown, ctx: S3ErrorContext): string {
  const f = fieldsOf(err);
  if (f.name === "CredentialsProviderError") {
    return `no credentials found for the ${ctx.section} storage at ${ctx.endpoint}: set ${ctx.credentialKeys} in the ${ctx.section} config section, or provide credentials through the AWS default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials, a container or instance role)`;
  }
  const reason = f.name === "AccessDenied" || (f.status === 403 && !CREDENTIAL_NAMES.has(f.name)) ? "access denied" : `credentials rejected (${f.name})`;
  return `${ctx.op}${where(ctx)} at ${ctx.endpoint}: ${reason}; check ${ctx.credentialKeys} in the ${ctx.section} config section, and that they may use this bucket`;
}

/**
 * A {@link TswrenError} for a failed S3 request (or the error itself when it already is one).
 * @param err - what the SDK or the network threw
 * @param ctx - the request, for the message
 * @returns `TSWREN_NO_SUCH_BUCKET`, `TSWREN_NO_SUCH_KEY`, `TSWREN_STORAGE_CREDENTIALS`,
 *   `TSWREN_STORAGE_UNREACHABLE`, `TSWREN_BAD_KEY` or `TSWREN_STORAGE`, with `err` as the cause
 */
export function toStorageError(err: unknown, ctx: S3ErrorContext): TswrenError {
  if (err instanceof TswrenError) return err;
  const f = fieldsOf(err);
  const code = s3ErrorCode(err);
  const at = `(${ctx.section} storage at ${ctx.endpoint})`;
  let message: string;
  switch (code) {
    case ErrorCodes.NO_SUCH_BUCKET:
      message = `bucket ${JSON.stringify(ctx.bucket ?? "")} does not exist ${at}; create it or change tswren.storage_bucket`;
      break;
    case ErrorCodes.NO_SUCH_KEY:
      message = `no object ${JSON.stringify(ctx.key ?? "")} in bucket ${JSON.stringify(ctx.bucket ?? "")} ${at}`;
      break;
    case ErrorCodes.STORAGE_CREDENTIALS:
      message = credentialsMessage(err, ctx);
      break;
    case ErrorCodes.STORAGE_UNREACHABLE:
      message = `cannot reach the ${ctx.section} storage endpoint ${ctx.endpoint} during ${ctx.op}${where(ctx)} (${networkDetail(err)}); check that the server runs and ${ctx.section}.endpoint is right`;
      break;
    case ErrorCodes.BAD_KEY:
      message = `${ctx.op}${where(ctx)} ${at}: ${f.name}: ${f.message}`;
      break;
    case ErrorCodes.STORAGE: {
      const hint = REGION_NAMES.has(f.name) || f.status === 301 ? `; check ${ctx.section}.region` : "";
      message = `${ctx.op}${where(ctx)} failed ${at}: ${f.name}${f.status === undefined ? "" : ` (HTTP ${f.status})`}${f.message ? `: ${f.message}` : ""}${hint}`;
    }
  }
  return new TswrenError(code, message, { cause: err });
}
