/**
 * The `openwhisk` npm client as the backend uses it: keep-alive connections, per-request
 * timeouts, Basic auth from a namespace key or a Bearer token from IBM IAM (through the client's
 * `auth_handler`, refreshed before it expires), and never the client's blind `retry` option.
 * Non-blocking invokes, the hot path, go out as plain requests on the same agent and credentials
 * (`whisk-invoke.ts`).
 */
import http from "node:http";
import https from "node:https";
import openwhisk from "openwhisk";
import { ErrorCodes, TswrenError } from "../../errors.js";
import { IbmIamTokenProvider } from "../../storage/ibm-iam.js";
import { nonBlockingInvoker, type InvokeTarget } from "./whisk-invoke.js";
import type { WhiskSettings } from "./settings.js";

/** The client object of the `openwhisk` package. */
export type WhiskApi = ReturnType<typeof openwhisk>;

/** Per-request options passed through the client to its HTTP library (needle). */
export interface RequestTimeouts {
  /** Connect timeout, ms. */
  open_timeout: number;
  /** Time to the response headers, ms. */
  response_timeout: number;
}

/** Timeouts of control-plane and non-blocking invoke requests. */
export const REQUEST_TIMEOUTS: RequestTimeouts = { open_timeout: 10_000, response_timeout: 60_000 };

/**
 * Add the request timeouts to a request's options. The client hands unknown options through to
 * its HTTP library; returning the same type keeps the client's own typing of the call.
 */
export function withTimeouts<T extends object>(options: T): T {
  return Object.assign(options, REQUEST_TIMEOUTS);
}

/** A connected client plus what the backend needs besides it. */
export interface WhiskConnection {
  api: WhiskApi;
  /**
   * Invoke an action without waiting (`blocking=false`); resolves with the activation id.
   * @throws WhiskRequestError (classified by `classifyWhiskError`), or a TswrenError when the IAM token cannot be had
   */
  invoke(action: string, params: object): Promise<{ activationId: string }>;
  /** Make sure the credentials work before a request (fetches the IAM token when needed). */
  authorize(): Promise<void>;
  /** A Bearer token for the remote invoker (IAM auth only). */
  bearerToken(): Promise<string | undefined>;
  /** Secret values to remove from any text shown to people. */
  secrets: string[];
  /** Release the keep-alive sockets. */
  close(): void;
}

/** Options of {@link connectWhisk} that tests override. */
export interface ConnectOptions {
  /** IBM IAM token endpoint (tests point it at a local server). */
  iamTokenUrl?: string;
}

function iamProvider(settings: WhiskSettings, options: ConnectOptions): IbmIamTokenProvider | undefined {
  if (settings.auth.kind !== "iam") return undefined;
  return new IbmIamTokenProvider({
    apiKey: settings.auth.iamApiKey,
    section: settings.section,
    ...(options.iamTokenUrl !== undefined ? { tokenUrl: options.iamTokenUrl } : {}),
  });
}

/** IAM errors name the key as `<section>.api_key`; for compute the key is `iam_api_key`. */
async function iamToken(iam: IbmIamTokenProvider, settings: WhiskSettings): Promise<string> {
  try {
    return await iam.token();
  } catch (err) {
    if (!(err instanceof TswrenError)) throw err;
    const message = err.message.split(`${settings.section}.api_key`).join(settings.auth.keyName).replace(/in the \S+ config section/, "in the config");
    const code =
      err.code === ErrorCodes.STORAGE_CREDENTIALS ? ErrorCodes.COMPUTE_CREDENTIALS
      : err.code === ErrorCodes.STORAGE_UNREACHABLE ? ErrorCodes.COMPUTE_UNREACHABLE
      : ErrorCodes.COMPUTE;
    throw new TswrenError(code, message, { cause: err });
  }
}

/**
 * Create the client for a backend's settings.
 * @param settings - endpoint, namespace, credentials, TLS and concurrency
 */
export function connectWhisk(settings: WhiskSettings, options: ConnectOptions = {}): WhiskConnection {
  const secure = settings.endpoint.startsWith("https:");
  const agentOptions = { keepAlive: true, maxSockets: settings.invokePoolThreads + 4 };
  const agent = secure ? new https.Agent({ ...agentOptions, rejectUnauthorized: !settings.insecure }) : new http.Agent(agentOptions);
  const iam = iamProvider(settings, options);
  const auth = settings.auth;
  const api = openwhisk({
    apihost: settings.endpoint,
    namespace: settings.namespace,
    ignore_certs: settings.insecure,
    agent,
    ...(auth.kind === "basic" ? { api_key: auth.apiKey } : {}),
    ...(iam !== undefined ? { auth_handler: { getAuthHeader: async () => `Bearer ${await iamToken(iam, settings)}` } } : {}),
  });
  const basic = auth.kind === "basic" ? `Basic ${Buffer.from(auth.apiKey).toString("base64")}` : undefined;
  const target: InvokeTarget = {
    endpoint: settings.endpoint,
    namespace: settings.namespace,
    agent,
    authorization: () => basic ?? (iam !== undefined ? iamToken(iam, settings).then((token) => `Bearer ${token}`) : ""),
    timeouts: { connectMs: REQUEST_TIMEOUTS.open_timeout, responseMs: REQUEST_TIMEOUTS.response_timeout },
  };
  return {
    api,
    invoke: nonBlockingInvoker(target),
    authorize: async () => {
      if (iam !== undefined) await iamToken(iam, settings);
    },
    bearerToken: async () => (iam !== undefined ? iamToken(iam, settings) : undefined),
    secrets: auth.kind === "basic" ? [auth.apiKey, Buffer.from(auth.apiKey).toString("base64")] : [auth.iamApiKey],
    close: () => { agent.destroy(); },
  };
}
