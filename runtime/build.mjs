// Builds the runtime's entry points with esbuild into runtime/dist, and copies them where the
// `tswren` package (kernel-lib) looks for them (kernel-lib/dist/runtime):
//
// - local-worker.mjs      the localhost pool worker (ESM; npm packages stay external)
// - action.cjs            the OpenWhisk action (CommonJS, exports `main`; one file with everything
//                         inside: tswren internals, @aws-sdk/client-s3, the openwhisk client);
//                         `.cjs` here because these folders are `"type": "module"`
// - openwhisk-action.zip  the `nodejs:20` action's code: that file as `action.js`, and a
//                         package.json whose `main` is `action.js`
// - action-proxy.mjs      the OpenWhisk action proxy (/init + /run), one file
// - http-server.mjs       the Knative / Code Engine / Cloud Run HTTP server, one file
// - aws-lambda.mjs        the AWS Lambda handler (ESM, one file with everything inside, the Lambda
//                         client included for the remote invoker)
// - aws-lambda.zip        the `nodejs20.x` function's code: that file as `index.mjs` (handler
//                         `index.handler`)
// - aws-lambda-ric.mjs    the small Lambda Runtime API client (the managed runtime's part; the
//                         test router runs it under AWS's Runtime Interface Emulator)
// - docker-worker.mjs     the docker backend's container runtime (stdin/stdout frames), one file
import { build } from "esbuild";
import { zipSync } from "fflate";
import { cp, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "dist");
const entry = (name) => path.join(here, "src/entry", `${name}.ts`);
/**
 * Client-side packages the bundled runtimes leave out: the public API is bundled (a function may
 * create an executor itself), but plots, notebook displays and npm-module capture only run on a
 * client; their lazy imports fail there with a clear message.
 */
const clientOnly = ["vega", "vega-lite", "esbuild", "tslab", "zeromq"];
const common = { bundle: true, platform: "node", target: "node20", sourcemap: true, logLevel: "warning", outdir: out, external: clientOnly };
/** Lets bundled CommonJS code `require` Node built-ins from an ES module. */
const requireShim = 'import { createRequire as __tswrenCreateRequire } from "node:module"; const require = __tswrenCreateRequire(import.meta.url);';
/** OpenWhisk's limit on an action's code. */
const ACTION_CODE_LIMIT_BYTES = 48 * 1024 * 1024;

await rm(out, { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: { "local-worker": entry("local-worker") }, format: "esm", outExtension: { ".js": ".mjs" }, packages: "external" }),
  build({
    ...common,
    entryPoints: { action: entry("action") },
    format: "cjs",
    outExtension: { ".js": ".cjs" },
    sourcemap: false,
    // The bundled client code reads import.meta.url (e.g. to find runtime files): CommonJS has __filename.
    banner: { js: 'const __tswrenImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { "import.meta.url": "__tswrenImportMetaUrl" },
  }),
  build({
    ...common,
    entryPoints: { "action-proxy": entry("action-proxy"), "http-server": entry("http-server"), "aws-lambda-ric": entry("aws-lambda-ric"), "docker-worker": entry("docker-worker") },
    format: "esm",
    outExtension: { ".js": ".mjs" },
    banner: { js: requireShim },
  }),
  build({ ...common, entryPoints: { "aws-lambda": entry("aws-lambda") }, format: "esm", outExtension: { ".js": ".mjs" }, banner: { js: requireShim }, sourcemap: false }),
]);

const { version } = JSON.parse(await readFile(path.join(here, "../kernel-lib/package.json"), "utf8"));
const manifest = { name: "tswren-openwhisk-action", version, private: true, main: "action.js" };
const zip = zipSync(
  {
    "package.json": new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
    "action.js": new Uint8Array(await readFile(path.join(out, "action.cjs"))),
  },
  { level: 9 },
);
await writeFile(path.join(out, "openwhisk-action.zip"), zip);
const lambdaZip = zipSync({ "index.mjs": new Uint8Array(await readFile(path.join(out, "aws-lambda.mjs"))) }, { level: 9 });
await writeFile(path.join(out, "aws-lambda.zip"), lambdaZip);

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const bundleBytes = (await stat(path.join(out, "action.cjs"))).size;
console.log(`runtime: action bundle ${mb(bundleBytes)}, openwhisk-action.zip ${mb(zip.length)} (OpenWhisk code limit ${mb(ACTION_CODE_LIMIT_BYTES)}), aws-lambda.zip ${mb(lambdaZip.length)}`);
if (zip.length > ACTION_CODE_LIMIT_BYTES / 4) throw new Error(`openwhisk-action.zip is ${mb(zip.length)}: too close to OpenWhisk's code limit`);

const target = path.join(here, "../kernel-lib/dist/runtime");
await mkdir(target, { recursive: true });
await cp(out, target, { recursive: true });
