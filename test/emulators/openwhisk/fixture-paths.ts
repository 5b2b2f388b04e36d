/** Where the emulator's own test fixtures live. */
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A minimal action proxy (the Apache Node.js runtime's contract) for the emulator's own tests, used
 * in place of the project's runtime (`DEFAULT_PROXY_PATH`) where a test needs nothing tswren-specific.
 */
export const FIXTURE_PROXY_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixture-proxy.mjs");
