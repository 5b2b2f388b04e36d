/**
 * Builds OpenWhisk Node.js action zips for tests: files in memory, zipped with fflate, returned as
 * the base64 text an action's `exec.code` carries (`binary: true`).
 */
import { strToU8, zipSync, type Zippable } from "fflate";

/**
 * Zip some files into a base64 action archive.
 * @param files - path inside the zip → text content (e.g. `index.js`, `package.json`)
 * @returns base64 of the zip
 * @example
 * ```ts
 * const code = actionZip({ "index.js": "exports.main = (p) => ({ echo: p });" });
 * await client.actions.create({ name: "echo", action: { exec: { kind: "nodejs:20", code, binary: true } } });
 * ```
 */
export function actionZip(files: Record<string, string>): string {
  const entries: Zippable = {};
  for (const [name, text] of Object.entries(files)) entries[name] = strToU8(text);
  return Buffer.from(zipSync(entries)).toString("base64");
}
