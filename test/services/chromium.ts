/**
 * Debian's Chromium for browser tests, installed by `chromium.sh install` when missing (apt, as
 * root), and the flags to run it headless in CI. Playwright never downloads a browser here.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "chromium.sh");

/** Flags for a quiet headless Chromium in a container. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Install Chromium when needed; resolves to the browser's path. */
export function chromiumPath(): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile("bash", [SCRIPT, "install"], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const bin = stdout.trim().split("\n").pop() ?? "";
      if (err === null && bin !== "") resolve(bin);
      else reject(new Error(`${SCRIPT} install failed: ${err?.message ?? "no output"}\n${stderr.slice(-4000)}`));
    });
  });
}
