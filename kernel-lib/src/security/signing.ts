/**
 * Signed invocations: the one sign/verify module every runtime uses (OpenWhisk action, Knative
 * HTTP server, remote invoker, AWS Lambda, Docker).
 *
 * A signed request is a small JSON envelope around the payload's exact JSON text:
 * `{ tswrenSigned: 1, keyId, expiresMs, body, signature }`. The signature is HMAC-SHA256 over
 * `tswren-sig-v1\n<keyId>\n<expiresMs>\n<body>` with the deployment's key, hex-encoded. The body
 * is signed as the bytes that travel (no re-serialization, so no canonicalization mismatch); the
 * verifier checks the MAC in constant time before it parses anything, then parses `body`.
 *
 * Keys are strings of at least 32 characters (`generateSigningKey()` gives 43 base64url
 * characters, 256 random bits). The key id is the first 16 hex characters of SHA-256 of the key:
 * it lets a runtime that accepts two keys during a rotation pick the right one, and reveals
 * nothing usable. Nothing in this module ever writes a key anywhere; see `key-store.ts` for where
 * the client keeps it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { inspect } from "node:util";
import { ErrorCodes, TswrenError } from "../errors.js";

/** Version marker of the envelope (the `tswrenSigned` field). */
export const SIGNATURE_VERSION = 1;

/** Environment variable a runtime reads its key from (set at deploy time, never stored in a bucket). */
export const SIGNING_KEY_ENV = "TSWREN_SIGNING_KEY";

/** Environment variable of the previous key, still accepted during a rotation. */
export const PREVIOUS_SIGNING_KEY_ENV = "TSWREN_SIGNING_KEY_PREVIOUS";

/** How long a signature is valid by default: 10 minutes (covers queueing and clock skew). */
export const DEFAULT_SIGNATURE_TTL_MS = 10 * 60_000;

/** Shortest key accepted, in characters. */
export const MIN_KEY_LENGTH = 32;

const MAC_LABEL = "tswren-sig-v1";

/** A loaded key: its public id and its secret (hidden from `util.inspect` and `JSON.stringify`). */
export class SigningKey {
  /** First 16 hex characters of SHA-256 of the key; safe to log. */
  readonly id: string;
  readonly #secret: Buffer;

  /**
   * @param text - the key as configured
   * @param origin - where it came from (named in the error)
   * @throws TswrenError `TSWREN_SIGNING_KEY` when the key is shorter than {@link MIN_KEY_LENGTH}
   */
  constructor(text: string, origin: string) {
    if (text.length < MIN_KEY_LENGTH) {
      throw new TswrenError(ErrorCodes.SIGNING_KEY, `the signing key from ${origin} is too short (${text.length} characters, at least ${MIN_KEY_LENGTH}); generate one with \`tswren runtime deploy\` or \`openssl rand -base64 32\``);
    }
    this.#secret = Buffer.from(text, "utf8");
    this.id = createHash("sha256").update(this.#secret).digest("hex").slice(0, 16);
  }

  /** HMAC-SHA256 of `data` under this key. */
  mac(data: string): Buffer {
    return createHmac("sha256", this.#secret).update(data).digest();
  }

  /** The key text, for deploying it to a runtime (env / parameters / secret). Never log it. */
  reveal(): string {
    return this.#secret.toString("utf8");
  }

  /** `JSON.stringify` shows only the id. */
  toJSON(): { keyId: string } {
    return { keyId: this.id };
  }

  /** `util.inspect` / `console.log` show only the id. */
  [inspect.custom](): string {
    return `SigningKey { id: '${this.id}', secret: <hidden> }`;
  }
}

/** The envelope a runtime receives instead of a bare payload. */
export interface SignedRequest {
  tswrenSigned: typeof SIGNATURE_VERSION;
  /** Id of the key that signed (see {@link SigningKey.id}). */
  keyId: string;
  /** The signature is refused after this time (ms since the epoch, the signer's clock). */
  expiresMs: number;
  /** The payload's JSON text, exactly as signed. */
  body: string;
  /** Hex HMAC-SHA256 over `tswren-sig-v1\n<keyId>\n<expiresMs>\n<body>`. */
  signature: string;
}

/** Outcome of {@link verifyPayload}: the body to parse, or why the request is refused (always 401). */
export type VerifyOutcome =
  | { ok: true; body: string; keyId: string; expiresMs: number }
  | { ok: false; statusCode: 401; reason: string };

/**
 * A new random key: 32 random bytes, base64url (43 characters).
 * @returns the key text
 */
export function generateSigningKey(): string {
  return randomBytes(32).toString("base64url");
}

function macInput(keyId: string, expiresMs: number, body: string): string {
  return `${MAC_LABEL}\n${keyId}\n${expiresMs}\n${body}`;
}

/**
 * Sign a payload.
 * @param body - the payload's JSON text (or a value, which is `JSON.stringify`-ed once here)
 * @param key - the deployment's key
 * @param options - `ttlMs` (default {@link DEFAULT_SIGNATURE_TTL_MS}), `nowMs` (default `Date.now()`)
 * @returns the envelope to send in place of the payload
 * @example
 * const request = signPayload(JSON.stringify(encodePayload(payload)), key);
 */
export function signPayload(body: string | object, key: SigningKey, options: { ttlMs?: number; nowMs?: number } = {}): SignedRequest {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const expiresMs = Math.floor((options.nowMs ?? Date.now()) + (options.ttlMs ?? DEFAULT_SIGNATURE_TTL_MS));
  const signature = key.mac(macInput(key.id, expiresMs, text)).toString("hex");
  return { tswrenSigned: SIGNATURE_VERSION, keyId: key.id, expiresMs, body: text, signature };
}

/** True when `value` has the envelope's shape (it may still fail verification). */
export function isSignedRequest(value: unknown): value is SignedRequest {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<SignedRequest>;
  return v.tswrenSigned === SIGNATURE_VERSION && typeof v.keyId === "string" && typeof v.expiresMs === "number" && typeof v.body === "string" && typeof v.signature === "string";
}

const refuse = (reason: string): VerifyOutcome => ({ ok: false, statusCode: 401, reason: `tswren runtime: unauthorized: ${reason}` });

/**
 * Verify a received request (constant-time MAC comparison) before anything in it is used.
 * @param request - what arrived (the parsed body or the action's parameters)
 * @param keys - the keys this runtime accepts (current first; previous during a rotation)
 * @param options - `nowMs` (default `Date.now()`)
 * @returns `{ ok: true, body }` (the payload text, still to be parsed), or `{ ok: false, 401, reason }`
 * @example
 * const v = verifyPayload(params, runtimeSigningKeys());
 * if (!v.ok) return { statusCode: v.statusCode, error: v.reason };
 * const payload = JSON.parse(v.body);
 */
export function verifyPayload(request: unknown, keys: readonly SigningKey[], options: { nowMs?: number } = {}): VerifyOutcome {
  if (keys.length === 0) return refuse(`this runtime has no signing key; deploy it with \`tswren runtime deploy\` (sets ${SIGNING_KEY_ENV})`);
  if (!isSignedRequest(request)) return refuse("the request is not signed; send it with a tswren client configured with the deployment's signing key");
  const key = keys.find((k) => k.id === request.keyId);
  if (key === undefined) return refuse(`the request is signed with an unknown key (id ${request.keyId.slice(0, 16)}); use the key this runtime was deployed with`);
  const expected = key.mac(macInput(key.id, request.expiresMs, request.body));
  const given = /^[0-9a-f]{64}$/.test(request.signature) ? Buffer.from(request.signature, "hex") : Buffer.alloc(expected.length);
  const match = timingSafeEqual(expected, given);
  if (!match) return refuse("the signature does not match the request");
  if (!(request.expiresMs > (options.nowMs ?? Date.now()))) return refuse(`the signature expired at ${new Date(request.expiresMs).toISOString()}`);
  return { ok: true, body: request.body, keyId: key.id, expiresMs: request.expiresMs };
}

/**
 * The keys a runtime accepts, from its environment: `TSWREN_SIGNING_KEY` and, during a rotation,
 * `TSWREN_SIGNING_KEY_PREVIOUS`. Empty when none is set (then every request is refused).
 * @param env - the environment (default `process.env`)
 * @returns the keys, current first
 * @throws Error when a set key is too short
 */
export function runtimeSigningKeys(env: NodeJS.ProcessEnv = process.env): SigningKey[] {
  const found: SigningKey[] = [];
  for (const name of [SIGNING_KEY_ENV, PREVIOUS_SIGNING_KEY_ENV]) {
    const text = env[name];
    if (text !== undefined && text !== "") found.push(new SigningKey(text, `$${name}`));
  }
  return found;
}
