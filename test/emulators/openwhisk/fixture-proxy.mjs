// Test fixture: a minimal action proxy with the Apache OpenWhisk Node.js runtime's contract, for
// the emulator's own tests (the project's real proxy is kernel-lib/dist/runtime/action-proxy.mjs).
//
//   POST /init {value: {name, main, code, binary, env}}  once; a second init is refused (403)
//   POST /run  {value, namespace, action_name, activation_id, ...}  each top-level key but `value`
//              is exported as __OW_<KEY>; 200 + the action's object result; a rejected promise is
//              200 {error} (application error); a thrown error or a non-object result is 502 {error}
//   after each run: XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX on stdout and on stderr
//
// Listens on $PORT (default 8080). Action code: a zip (package.json "main" or index.js) or a plain
// source file, loaded as CommonJS (.js) or ESM (.mjs), exporting the function named by `main`.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { unzipSync } from "fflate";

const MARKER = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";
let initialized = false;
let action;

async function load(value) {
  const dir = mkdtempSync(path.join(tmpdir(), "ow-fixture-action-"));
  let entry = "index.js";
  if (value.binary) {
    const files = unzipSync(Buffer.from(value.code, "base64"));
    for (const [name, bytes] of Object.entries(files)) {
      if (name.endsWith("/")) continue;
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), bytes);
    }
    const pkgFile = path.join(dir, "package.json");
    if (existsSync(pkgFile)) entry = JSON.parse(readFileSync(pkgFile, "utf8")).main ?? entry;
  } else {
    writeFileSync(path.join(dir, entry), value.code);
  }
  const file = path.join(dir, entry);
  const mod = file.endsWith(".mjs") ? await import(pathToFileURL(file).href) : createRequire(file)(file);
  const fn = mod[value.main ?? "main"] ?? (typeof mod === "function" ? mod : undefined);
  if (typeof fn !== "function") throw new Error(`Action entrypoint '${value.main}' is not a function.`);
  return fn;
}

async function init(body) {
  if (initialized) return [403, { error: "Cannot initialize the action more than once." }];
  initialized = true;
  const value = body.value ?? {};
  for (const [key, v] of Object.entries(value.env ?? {})) process.env[key] = typeof v === "string" ? v : JSON.stringify(v);
  try {
    action = await load(value);
    return [200, { ok: true }];
  } catch (err) {
    return [502, { error: `Initialization has failed due to: ${err?.stack ?? err}` }];
  }
}

async function run(body) {
  for (const [key, v] of Object.entries(body)) {
    if (key !== "value") process.env[`__OW_${key.toUpperCase()}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  let pending;
  try {
    pending = action(body.value ?? {});
  } catch (err) {
    return [502, { error: `An error has occurred: ${err}` }];
  }
  let result;
  try {
    result = await pending;
  } catch (err) {
    return [200, { error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : (err ?? {}) }];
  }
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    return [502, { error: "The action did not return a dictionary." }];
  }
  return [200, result];
}

function reply(res, [status, body]) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    } catch {
      return reply(res, [400, { error: "The request body is not JSON." }]);
    }
    if (req.method === "POST" && req.url === "/init") return reply(res, await init(body));
    if (req.method === "POST" && req.url === "/run") {
      if (!initialized || action === undefined) return reply(res, [403, { error: "System not ready." }]);
      const answer = await run(body);
      process.stdout.write(`${MARKER}\n`);
      process.stderr.write(`${MARKER}\n`);
      return reply(res, answer);
    }
    reply(res, [404, { error: "Not found." }]);
  });
});
server.listen(Number(process.env.PORT ?? 8080), "127.0.0.1");
