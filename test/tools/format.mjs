// The formatter: `npm run format` rewrites, `npm run format:check` (part of `npm test`) lists the
// files that are not formatted and fails. dprint's TypeScript plugin (pinned npm packages
// @dprint/formatter + @dprint/typescript, a Wasm module: nothing is downloaded, no native binary)
// with the settings in format.config.jsonc at the repository root.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createFromBuffer } from "@dprint/formatter";
import { getPath } from "@dprint/typescript";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "../..");
const config = JSON.parse(readFileSync(path.join(root, "format.config.jsonc"), "utf8").replace(/^\s*\/\/.*$/gm, ""));
const formatter = createFromBuffer(readFileSync(getPath()));
formatter.setConfig({ lineWidth: config.lineWidth, indentWidth: config.indentWidth }, config.typescript);
const diagnostics = formatter.getConfigDiagnostics();
if (diagnostics.length > 0) throw new Error(`dprint.json: ${diagnostics.map((d) => `${d.propertyName}: ${d.message}`).join("; ")}`);

/** Every file under `dir` whose name ends with one of `suffixes`, skipping node_modules and dist. */
function* walk(dir, suffixes) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full, suffixes);
    else if (suffixes.some((s) => entry.name.endsWith(s)) && !entry.name.endsWith(".d.ts")) yield full;
  }
}

const check = process.argv.includes("--check");
const unformatted = [];
let count = 0;
for (const { dir, suffixes } of config.roots) {
  for (const file of walk(path.join(root, dir), suffixes)) {
    count++;
    const text = readFileSync(file, "utf8");
    const formatted = formatter.formatText({ filePath: file, fileText: text });
    if (formatted === text) continue;
    unformatted.push(path.relative(root, file));
    if (!check) writeFileSync(file, formatted);
  }
}
if (check && unformatted.length > 0) {
  console.error(`format:check: ${unformatted.length} of ${count} files are not formatted (run \`npm run format\`):\n  ${unformatted.join("\n  ")}`);
  process.exit(1);
}
console.log(check ? `format:check: ${count} files formatted` : `format: ${unformatted.length} of ${count} files rewritten`);
