/**
 * The signing key the test suites deploy their runtimes with (runtime processes get it in their
 * environment, executors in their backend section), and a helper to sign a payload with it.
 */
import { SigningKey, generateSigningKey, signPayload, type SignedRequest } from "../../kernel-lib/src/security/signing.js";

/** A fresh key per test process (never a fixed string in the repository). */
export const TEST_SIGNING_KEY = process.env["TSWREN_TEST_SIGNING_KEY"] ?? generateSigningKey();
process.env["TSWREN_TEST_SIGNING_KEY"] = TEST_SIGNING_KEY;

const key = new SigningKey(TEST_SIGNING_KEY, "test suite");

/**
 * Sign a value (its JSON text) with {@link TEST_SIGNING_KEY}.
 * @param value - a payload JSON or a remote-invoke request
 * @returns the signed request a runtime accepts
 */
export function signed(value: unknown): SignedRequest {
  return signPayload(JSON.stringify(value), key);
}
