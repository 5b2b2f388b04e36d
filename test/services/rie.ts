/**
 * AWS's Lambda Runtime Interface Emulator for tests: `installRie()` builds it once through
 * `rie.sh install` (Go module proxy, cached in `$TSWREN_SERVICES_DIR/bin`) and resolves with the
 * binary's path. The emulators run in pools behind test/emulators/lambda's router.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runServiceScript } from "./moto.js";

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "rie.sh");

let installing: Promise<string> | undefined;

/** `rie.sh install`, once per process; resolves with the path of `aws-lambda-rie`. */
export function installRie(): Promise<string> {
  installing ??= runServiceScript(SCRIPT, "install");
  installing.catch(() => (installing = undefined));
  return installing;
}
