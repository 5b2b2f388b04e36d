/**
 * IBM Cloud IAM: exchange an API key for a bearer token, cache it, and refresh it before it
 * expires. IBM COS accepts the token as `Authorization: Bearer <token>` instead of SigV4.
 */
import { ErrorCodes, TswrenError } from "../errors.js";

/** The public IBM Cloud IAM token endpoint. */
export const IBM_IAM_TOKEN_URL = "https://iam.cloud.ibm.com/identity/token";

/** Options of {@link IbmIamTokenProvider}. */
export interface IbmIamTokenOptions {
  /** The IAM API key (a secret: never printed). */
  apiKey: string;
  /** Config section that holds the key, named in error messages (e.g. `ibm_cos`). */
  section: string;
  /** Token endpoint; {@link IBM_IAM_TOKEN_URL} unless a test points it at a local server. */
  tokenUrl?: string;
  /** Refresh a cached token when less than this is left of its life (default 5 min). */
  refreshBeforeMs?: number;
  /** Time limit of one token request (default 10 s). */
  requestTimeoutMs?: number;
  /** The clock, in epoch milliseconds (tests move it instead of sleeping). */
  nowMs?: () => number;
}

interface CachedToken {
  value: string;
  expiresAtMs: number;
}

const DEFAULT_REFRESH_BEFORE_MS = 5 * 60_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey";

/**
 * Fetches IAM bearer tokens for one API key, sharing one request among concurrent callers and
 * reusing the token until less than `refreshBeforeMs` of it is left.
 *
 * @example
 * ```ts
 * const iam = new IbmIamTokenProvider({ apiKey, section: "ibm_cos" });
 * headers.authorization = `Bearer ${await iam.token()}`;
 * ```
 */
export class IbmIamTokenProvider {
  private readonly apiKey: string;
  private readonly section: string;
  private readonly tokenUrl: string;
  private readonly refreshBeforeMs: number;
  private readonly requestTimeoutMs: number;
  private readonly nowMs: () => number;
  private cached: CachedToken | undefined;
  private inflight: Promise<CachedToken> | undefined;
  /** How many token requests were sent (for tests and diagnostics). */
  fetchCount = 0;

  /** @param options - the API key, where it is configured, and endpoint/timing overrides */
  constructor(options: IbmIamTokenOptions) {
    this.apiKey = options.apiKey;
    this.section = options.section;
    this.tokenUrl = options.tokenUrl ?? IBM_IAM_TOKEN_URL;
    this.refreshBeforeMs = options.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /**
   * A valid bearer token: the cached one while more than `refreshBeforeMs` of it is left, else a
   * new one. When a refresh fails but the cached token has not expired yet, the cached token is
   * returned and the next call tries again.
   * @returns the access token, without the `Bearer ` prefix
   * @throws TswrenError `TSWREN_STORAGE_CREDENTIALS` when IAM refuses the key,
   *   `TSWREN_STORAGE_UNREACHABLE` when IAM cannot be reached, `TSWREN_STORAGE` otherwise
   */
  async token(): Promise<string> {
    const now = this.nowMs();
    const cached = this.cached;
    if (cached !== undefined && cached.expiresAtMs - now > this.refreshBeforeMs) return cached.value;
    try {
      this.inflight ??= this.fetchToken().finally(() => {
        this.inflight = undefined;
      });
      this.cached = await this.inflight;
      return this.cached.value;
    } catch (err) {
      if (cached !== undefined && cached.expiresAtMs > this.nowMs()) return cached.value;
      throw err;
    }
  }

  private async fetchToken(): Promise<CachedToken> {
    this.fetchCount++;
    const body = new URLSearchParams({ grant_type: GRANT_TYPE, apikey: this.apiKey });
    let res: Response;
    try {
      res = await fetch(this.tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body,
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (err) {
      throw new TswrenError(
        ErrorCodes.STORAGE_UNREACHABLE,
        `cannot reach IBM IAM at ${this.tokenUrl} to exchange ${this.section}.api_key for a token (${this.redact(errorText(err))}); check the network`,
      );
    }
    const text = await res.text();
    if (!res.ok) throw this.refused(res.status, text);
    return this.parse(text);
  }

  private refused(status: number, text: string): TswrenError {
    const detail = this.redact(iamMessage(text));
    if (status === 400 || status === 401 || status === 403) {
      return new TswrenError(
        ErrorCodes.STORAGE_CREDENTIALS,
        `IBM IAM refused ${this.section}.api_key (HTTP ${status}${detail ? `: ${detail}` : ""}); check the api_key in the ${this.section} config section`,
      );
    }
    return new TswrenError(ErrorCodes.STORAGE, `IBM IAM at ${this.tokenUrl} answered HTTP ${status}${detail ? `: ${detail}` : ""}; try again later`);
  }

  private parse(text: string): CachedToken {
    const fields = parseJsonObject(text);
    const value = fields["access_token"];
    const expiration = fields["expiration"];
    const expiresIn = fields["expires_in"];
    if (typeof value !== "string" || value === "") {
      throw new TswrenError(ErrorCodes.STORAGE, `IBM IAM at ${this.tokenUrl} answered without an access_token`);
    }
    const expiresAtMs =
      typeof expiration === "number" ? expiration * 1000
      : typeof expiresIn === "number" ? this.nowMs() + expiresIn * 1000
      : this.nowMs() + 3_600_000;
    return { value, expiresAtMs };
  }

  /** Remove the API key from text that came back from the network, should it echo it. */
  private redact(text: string): string {
    return this.apiKey === "" ? text : text.split(this.apiKey).join("<hidden>");
  }
}

function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // not JSON: fall through
  }
  return {};
}

/** The human part of an IAM error body (`errorMessage`), or a short prefix of the body. */
function iamMessage(text: string): string {
  const message = parseJsonObject(text)["errorMessage"];
  if (typeof message === "string") return message;
  return text.slice(0, 200).trim();
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}
