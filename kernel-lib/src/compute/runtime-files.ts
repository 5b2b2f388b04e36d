/** Finds the runtime's built files (`dist/runtime/*`) inside this package, from source or build. */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCodes, TswrenError } from "../errors.js";

/**
 * Path of a file the runtime build put in `dist/runtime/` (`local-worker.mjs`,
 * `openwhisk-action.zip`, `http-server.mjs`, ...).
 * @throws TswrenError `TSWREN_RUNTIME_MISSING` naming the file and how to build it
 */
export function runtimeFile(fileName: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 7; i++) {
    const candidate = path.join(dir, "dist", "runtime", fileName);
    if (existsSync(candidate)) return candidate;
    const sibling = path.join(dir, "runtime", fileName);
    if (existsSync(sibling)) return sibling;
    dir = path.dirname(dir);
  }
  throw new TswrenError(
    ErrorCodes.RUNTIME_MISSING,
    `the tswren runtime file dist/runtime/${fileName} is missing next to ${here}; run \`npm run build\` in the tswren repository, or reinstall the tswren package`,
  );
}
