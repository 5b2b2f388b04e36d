/**
 * Turns AWS SDK errors of the Lambda and IAM clients into coded tswren errors that say what to
 * do; never includes credentials (the SDK's messages do not carry them).
 */
import { ErrorCodes, TswrenError } from "../../errors.js";

/** What kind of failure an SDK error is. */
export type LambdaFailure = "throttled" | "missing" | "credentials" | "too-large" | "network" | "server" | "refused";

const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError", "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
  "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "AccessDenied",
]);

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string {
  return err instanceof Error ? err.name : "";
}

/** Classify an SDK error. */
export function classifyLambdaError(err: unknown): LambdaFailure {
  const name = nameOf(err);
  const status = statusOf(err);
  if (CREDENTIAL_ERRORS.has(name) || status === 401 || status === 403) return "credentials";
  if (name === "TooManyRequestsException" || status === 429) return "throttled";
  if (name === "ResourceNotFoundException" || name === "NoSuchEntityException" || status === 404) return "missing";
  if (name === "RequestEntityTooLargeException" || status === 413) return "too-large";
  if (status === undefined) return "network";
  if (status >= 500) return "server";
  return "refused";
}

/**
 * The coded error for a failed Lambda request.
 * @param err - the SDK error
 * @param doing - what was being done, e.g. `invoking tswren-nodejs20-0-1-0-256mb`
 * @param where - region and endpoint, for the message
 */
export function lambdaError(err: unknown, doing: string, where: string): TswrenError {
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  switch (classifyLambdaError(err)) {
    case "credentials":
      return new TswrenError(ErrorCodes.COMPUTE_CREDENTIALS, `AWS refused the credentials while ${doing} (${where}): ${detail}. tswren takes them from the standard AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or aws_lambda.profile, ~/.aws/credentials; check them and their permissions (lambda:*, iam:PassRole)`, { cause: err });
    case "missing":
      return new TswrenError(ErrorCodes.RUNTIME_MISSING, `the tswren function is missing while ${doing} (${where}): ${detail}; run \`tswren runtime deploy --backend aws_lambda\``, { cause: err });
    case "throttled":
      return new TswrenError(ErrorCodes.COMPUTE_THROTTLED, `Lambda kept throttling (429 TooManyRequestsException) while ${doing} (${where}); lower aws_lambda.invoke_pool_threads or ask AWS for more concurrency`, { cause: err });
    case "too-large":
      return new TswrenError(ErrorCodes.COMPUTE, `Lambda refused the payload as too large while ${doing} (${where}): ${detail}`, { cause: err });
    case "network":
    case "server":
      return new TswrenError(ErrorCodes.COMPUTE_UNREACHABLE, `Lambda could not be reached while ${doing} (${where}): ${detail}; check aws_lambda.region / endpoint and the network`, { cause: err });
    case "refused":
      return new TswrenError(ErrorCodes.COMPUTE, `Lambda refused a request while ${doing} (${where}): ${detail}`, { cause: err });
  }
}
