// Builds the runtime's entry points into single files with esbuild and places the local worker
// where the `tswren` package (kernel-lib) looks for it.
import { build } from "esbuild";
import { cp, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "dist");

await build({
  entryPoints: { "local-worker": path.join(here, "src/entry/local-worker.ts") },
  outdir: out,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
const target = path.join(here, "../kernel-lib/dist/runtime");
await mkdir(target, { recursive: true });
await cp(out, target, { recursive: true });
