// `npm run bench:data`: data-job figures on a real MinIO (started here, on 127.0.0.1):
// 1. word count over >= 1 GiB of generated text in 64 MiB chunks, as a ratio of the throughput
//    of the same ranged GETs (same parts, same parallelism) that do nothing with the bytes;
// 2. the time to partition a prefix of 10,000 small objects.
// Flags: --gib N (data size, default 1), --small N (objects for the partition figure, default 10000).
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { functionExecutor, objects } from "tswren";
import { createStorageBackend, partition } from "tswren/internal";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const GIB = flag("--gib", 1);
const SMALL = flag("--small", 10_000);
const CHUNK = 64 << 20;
const BUCKET = "tswren-bench";

async function startMinio() {
  // Bundled next to its source: minio.ts finds minio.sh beside itself.
  const dir = mkdtempSync(path.join(here, "../test/services/.bench-"));
  const outfile = path.join(dir, "../.bench-minio.mjs");
  await build({ entryPoints: [path.join(here, "../test/services/minio.ts")], outfile, bundle: true, platform: "node", format: "esm", logLevel: "error" });
  const { startMinio: start } = await import(pathToFileURL(outfile).href);
  const server = await start();
  return { server, dispose: () => { rmSync(dir, { recursive: true, force: true }); rmSync(outfile, { force: true }); } };
}

/** Text of random-ish words, one MiB, ending with a newline. */
function wordBlock(seed) {
  const words = ["alpha", "beta", "gamma", "delta", "tswren", "lithops", "pywren", "serverless", "map", "reduce", "cloud", "object"];
  const lines = [];
  let size = 0;
  let x = seed;
  while (size < 1 << 20) {
    const n = 5 + (x % 11);
    const line = [];
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      line.push(words[x % words.length]);
    }
    const text = line.join(" ");
    lines.push(text);
    size += text.length + 1;
  }
  return Buffer.from(`${lines.join("\n")}\n`);
}

const SPACE = new Uint8Array(256);
SPACE[32] = SPACE[10] = SPACE[9] = SPACE[13] = 1;
function countWords(buf) {
  let words = 0;
  let prev = 1;
  for (let i = 0; i < buf.length; i++) {
    const s = SPACE[buf[i]];
    words += prev & (s ^ 1);
    prev = s;
  }
  return words;
}

async function upload(storage, totalBytes) {
  const perObject = CHUNK * 4;
  const count = Math.ceil(totalBytes / perObject);
  let expected = 0;
  for (let o = 0; o < count; o++) {
    const block = wordBlock(o + 1);
    const body = Buffer.concat(Array.from({ length: Math.ceil(perObject / block.length) }, () => block)).subarray(0, perObject);
    body[body.length - 1] = 10; // exactly 4 chunks per object, ending with a newline
    expected += countWords(body);
    await storage.put(BUCKET, `words/part-${String(o).padStart(3, "0")}.txt`, body);
  }
  return { count, expected };
}

async function rawGets(storage, parts, parallel) {
  const queue = [...parts];
  const t0 = performance.now();
  let bytes = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
      const stream = await storage.getStream(p.bucket, p.key, { start: p.start, end: p.end - 1 });
      for await (const chunk of stream) bytes += chunk.length;
    }
  }));
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

const { server, dispose } = await startMinio();
const minio = { endpoint: server.endpoint, access_key_id: server.accessKey, secret_access_key: server.secretKey, region: server.region };
const storage = await createStorageBackend("minio", minio);
const workers = cpus().length;
const fx = functionExecutor({ storage: "minio", storageBucket: BUCKET, workers, dataCleaner: true, config: { minio } });
try {
  await storage.ensureBucket(BUCKET);
  const t0 = performance.now();
  const { count, expected } = await upload(storage, GIB * 2 ** 30);
  const totalBytes = (await storage.list(BUCKET, "words/")).reduce((s, o) => s + o.size, 0);
  console.log(`generated ${count} objects, ${(totalBytes / 2 ** 30).toFixed(2)} GiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  await fx.callAsync((x) => x, 0);
  await fx.getResult();
  const tWc = performance.now();
  const futures = await fx.map(async (obj) => {
    // A part starts and ends at line boundaries, so no word spans two parts. Words are counted
    // four bytes at a time (SWAR): a word starts at a non-space byte whose previous byte is a space.
    let words = 0;
    let carry = 0x80; // the byte before the part counts as a space
    let tail = Buffer.alloc(0);
    const zero = (v) => ~(((v & 0x7f7f7f7f) + 0x7f7f7f7f) | v | 0x7f7f7f7f);
    for await (const piece of await obj.stream()) {
      const chunk = tail.length > 0 ? Buffer.concat([tail, piece]) : piece;
      const n4 = chunk.length >>> 2;
      const u32 = (chunk.byteOffset & 3) === 0 ? new Uint32Array(chunk.buffer, chunk.byteOffset, n4) : new Uint32Array(Uint8Array.prototype.slice.call(chunk, 0, n4 * 4).buffer);
      for (let i = 0; i < n4; i++) {
        const x = u32[i];
        const sp = (zero(x ^ 0x20202020) | zero(x ^ 0x0a0a0a0a) | zero(x ^ 0x09090909) | zero(x ^ 0x0d0d0d0d)) & 0x80808080;
        const starts = ~sp & ((sp << 8) | carry) & 0x80808080;
        words += Math.imul((starts >>> 7) & 0x01010101, 0x01010101) >>> 24;
        carry = (sp >>> 24) & 0x80;
      }
      tail = chunk.subarray(n4 * 4);
    }
    for (const c of tail) {
      const space = c === 32 || c === 10 || c === 9 || c === 13;
      if (!space && carry) words++;
      carry = space ? 0x80 : 0;
    }
    return words;
  }, objects(`s3://${BUCKET}/words/`), { chunkSize: CHUNK });
  const counts = await fx.getResult(futures);
  const wcSeconds = (performance.now() - tWc) / 1000;
  const words = counts.reduce((a, b) => a + b, 0);
  if (words !== expected) throw new Error(`word count ${words} != expected ${expected}`);

  const tDrain = performance.now();
  const drained = await fx.map(async (obj) => {
    let bytes = 0;
    for await (const chunk of await obj.stream()) bytes += chunk.length;
    return bytes;
  }, objects(`s3://${BUCKET}/words/`), { chunkSize: CHUNK });
  const drainBytes = (await fx.getResult(drained)).reduce((a, b) => a + b, 0);
  const drainSeconds = (performance.now() - tDrain) / 1000;
  if (drainBytes !== totalBytes) throw new Error(`drained ${drainBytes} of ${totalBytes} bytes`);

  const parts = await partition(objects(`s3://${BUCKET}/words/`), { storage, localFiles: false }, { chunkSize: CHUNK });
  const raw = await rawGets(storage, parts, workers);
  const wcRate = totalBytes / wcSeconds / 2 ** 20;
  const rawRate = raw.bytes / raw.seconds / 2 ** 20;
  console.log(`tswren word count: ${parts.length} calls of 64 MiB on ${workers} workers, ${words} words, ${wcSeconds.toFixed(2)} s = ${wcRate.toFixed(0)} MiB/s`);
  console.log(`raw ranged GETs:   ${parts.length} GETs, ${workers} at a time, bytes discarded, ${raw.seconds.toFixed(2)} s = ${rawRate.toFixed(0)} MiB/s`);
  const drainRate = totalBytes / drainSeconds / 2 ** 20;
  console.log(`tswren drain only: same parts, bytes discarded in the function, ${drainSeconds.toFixed(2)} s = ${drainRate.toFixed(0)} MiB/s`);
  console.log(`ratio tswren word count / raw: ${(wcRate / rawRate).toFixed(2)} (goal >= 0.8); tswren drain / raw: ${(drainRate / rawRate).toFixed(2)}`);

  const small = Array.from({ length: SMALL }, (_, i) => `small/obj-${String(i).padStart(6, "0")}`);
  for (let i = 0; i < small.length; i += 64) await Promise.all(small.slice(i, i + 64).map((k) => storage.put(BUCKET, k, "x\n")));
  const tp = performance.now();
  const smallParts = await partition(objects(`s3://${BUCKET}/small/`), { storage, localFiles: false }, {});
  const partitionSeconds = (performance.now() - tp) / 1000;
  console.log(`partition of a prefix with ${smallParts.length} small objects: ${(partitionSeconds * 1000).toFixed(0)} ms`);
  console.log(JSON.stringify({ gib: totalBytes / 2 ** 30, wcSeconds, drainSeconds, rawSeconds: raw.seconds, ratio: wcRate / rawRate, drainRatio: drainRate / rawRate, partitionSmall: { objects: smallParts.length, seconds: partitionSeconds } }));
} finally {
  await fx.close();
  await storage.close();
  await server.stop();
  dispose();
}
