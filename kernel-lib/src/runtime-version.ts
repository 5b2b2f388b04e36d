/**
 * The client/runtime version check, shared by both sides so the message reads the same wherever
 * the mismatch is found: the runtime refuses a payload from another tswren version, and the
 * client refuses a deployed runtime that reports another version.
 */
import { TSWREN_VERSION } from "./version.js";

/** The command that (re)deploys the runtime of the running client's version. */
export const RUNTIME_DEPLOY_COMMAND = "tswren runtime deploy";

/**
 * The message for a client and a runtime of different tswren versions.
 * @param clientVersion - tswren version of the client that built the payload
 * @param runtimeVersion - tswren version of the deployed runtime
 * @returns a message naming both versions and the deploy command
 * @example
 * ```ts
 * runtimeVersionMismatch("0.2.0", "0.1.0");
 * // "tswren version mismatch: the client is tswren 0.2.0 but the deployed runtime is tswren 0.1.0; ..."
 * ```
 */
export function runtimeVersionMismatch(clientVersion: string, runtimeVersion: string): string {
  return (
    `tswren version mismatch: the client is tswren ${clientVersion} but the deployed runtime is tswren ` +
    `${runtimeVersion}; deploy the client's runtime with \`${RUNTIME_DEPLOY_COMMAND}\` (or use the same ` +
    `tswren version on both sides)`
  );
}

/**
 * Check the tswren version a payload (or a runtime's report) carries against this build's.
 * @param otherVersion - the version the other side reported (undefined when it reported none)
 * @param side - which side this build is: on the runtime the other side is the client, and back
 * @returns null when the versions match, else the mismatch message
 */
export function checkRuntimeVersion(otherVersion: unknown, side: "runtime" | "client"): string | null {
  if (otherVersion === TSWREN_VERSION) return null;
  const other = typeof otherVersion === "string" ? otherVersion : "unknown";
  return side === "runtime" ? runtimeVersionMismatch(other, TSWREN_VERSION) : runtimeVersionMismatch(TSWREN_VERSION, other);
}
