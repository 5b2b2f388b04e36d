/**
 * Security helpers shared by the client and every runtime: signed invocations and the client's
 * key store. See docs/security.md and /work/notes/signing-api.md.
 */
export {
  SIGNATURE_VERSION,
  SIGNING_KEY_ENV,
  PREVIOUS_SIGNING_KEY_ENV,
  DEFAULT_SIGNATURE_TTL_MS,
  MIN_KEY_LENGTH,
  SigningKey,
  generateSigningKey,
  signPayload,
  verifyPayload,
  isSignedRequest,
  runtimeSigningKeys,
} from "./signing.js";
export type { SignedRequest, VerifyOutcome } from "./signing.js";
export { KEYS_DIR_ENV, DeploymentKey, signingKeyFile, findSigningKey, clientSigningKey, ensureSigningKey } from "./key-store.js";
export type { FoundKey } from "./key-store.js";
