import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPart } from "../../kernel-lib/src/data/cloud-object.js";
import { objects } from "../../kernel-lib/src/data/objects.js";
import { partition } from "../../kernel-lib/src/data/partitioner.js";
import type { ChunkOptions, PartSpec } from "../../kernel-lib/src/data/partitioner.js";
import type { ByteRange, StorageBackend } from "../../kernel-lib/src/storage/backend.js";
import { LocalhostStorage } from "../../kernel-lib/src/storage/localhost.js";

const THOUSAND_LINES = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(9, "0")}\n`).join("");
const METHODS = ["lines", "text", "bytes", "stream"] as const;
type Method = (typeof METHODS)[number];

/** Read one part with one of the four methods, as the list of its lines (split like lines()). */
async function partLines(spec: PartSpec, storage: StorageBackend, method: Method): Promise<string[]> {
  const obj = openPart(spec, storage);
  if (method === "lines") {
    const out: string[] = [];
    for await (const line of obj.lines()) out.push(line);
    return out;
  }
  let text: string;
  if (method === "text") text = await obj.text();
  else if (method === "bytes") text = Buffer.from(await obj.bytes()).toString("utf8");
  else {
    const chunks: Buffer[] = [];
    for await (const chunk of await obj.stream()) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString("utf8");
  }
  if (text === "") return [];
  return (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n").map((l) => l.replace(/\r$/, ""));
}

async function collect<T>(source: AsyncIterable<unknown>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of source) out.push(x as T);
  return out;
}

/** Every part's lines, per part, and the concatenated text of all parts. */
async function readAll(specs: PartSpec[], storage: StorageBackend, method: Method): Promise<string[][]> {
  return Promise.all(specs.map((s) => partLines(s, storage, method)));
}

async function allText(specs: PartSpec[], storage: StorageBackend): Promise<string> {
  return (await Promise.all(specs.map((s) => openPart(s, storage).text()))).join("");
}

function linesOf(content: string): string[] {
  if (content === "") return [];
  return (content.endsWith("\n") ? content.slice(0, -1) : content).split("\n").map((l) => l.replace(/\r$/, ""));
}

/** A storage backend recording the byte ranges of getStream calls. */
function recording(inner: StorageBackend, ranges: Array<ByteRange | undefined>): StorageBackend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== "getStream" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
      return (bucket: string, key: string, range?: ByteRange) => {
        ranges.push(range);
        return target.getStream(bucket, key, range);
      };
    },
  });
}

/**
 * An http server on 127.0.0.1: /r/* ranges, /p/* no ranges, /h/* refuses HEAD, /l/* claims ranges
 * but ignores them, /n/* sends no length, /x/* advertises size and ranges but answers every ranged
 * GET with 416.
 */
class TestServer {
  readonly files = new Map<string, Buffer>();
  readonly requests: Array<{ method: string; url: string; range: string | undefined }> = [];
  private server: Server | undefined;
  base = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    this.server?.close();
    if (this.server !== undefined) await once(this.server, "close");
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://x");
    this.requests.push({ method: req.method ?? "", url: url.pathname, range: req.headers.range });
    const mode = url.pathname.slice(1, 2);
    const body = this.files.get(url.pathname.slice(3));
    if (body === undefined) return void res.writeHead(404).end();
    if (req.method === "HEAD" && mode === "h") return void res.writeHead(405).end();
    if (mode === "n") return void res.writeHead(200, { "accept-ranges": "bytes", "transfer-encoding": "chunked" }).end(req.method === "HEAD" ? undefined : body);
    const advertise = mode === "r" || mode === "l" || mode === "h" || mode === "x";
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (m === null || mode === "p" || mode === "l") {
      res.writeHead(200, { "content-length": body.length, ...(advertise ? { "accept-ranges": "bytes" } : {}) });
      return void res.end(req.method === "HEAD" ? undefined : body);
    }
    const start = Number(m[1]);
    if (start >= body.length || mode === "x") return void res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
    const end = Math.min(body.length - 1, m[2] === "" ? body.length - 1 : Number(m[2]));
    res.writeHead(206, { "content-range": `bytes ${start}-${end}/${body.length}`, "content-length": end - start + 1, "accept-ranges": "bytes" });
    res.end(body.subarray(start, end + 1));
  }
}

let root: string;
let storage: LocalhostStorage;
const server = new TestServer();
const env = (): { storage: StorageBackend; localFiles: boolean } => ({ storage, localFiles: true });
const parts = (src: string | string[], chunk: ChunkOptions): Promise<PartSpec[]> => partition(objects(src), env(), chunk);

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "tswren-cloudobj-"));
  storage = new LocalhostStorage({ storage_root: path.join(root, "store") });
  await storage.ensureBucket("data");
  const files: Record<string, string> = {
    "lines.txt": THOUSAND_LINES,
    "abcde.txt": "a\nb\nc\nd\ne",
    "long.txt": `${"x".repeat(20)}\nb\n`,
    "nofinal.txt": "one\ntwo\nthree",
    "plus1.txt": `${THOUSAND_LINES}z`,
    "crlf.txt": "a\r\nb\nc\r\n\r\nd",
    "utf8.txt": "héllo wörld\n日本語のテキスト\n\n🙂 emoji line\nlast",
  };
  for (const [key, text] of Object.entries(files)) {
    await storage.put("data", key, text);
    await writeFile(path.join(root, key), text);
    server.files.set(key, Buffer.from(text));
  }
  await server.start();
});

afterAll(async () => {
  await server.stop();
  await rm(root, { recursive: true, force: true });
});

describe("CloudObject over storage", () => {
  it.each([[{ chunkSize: 1000 }, 10], [{ chunkSize: 1005 }, 10], [{ chunkNumber: 3 }, 3]] as const)(
    "gives every one of 1000 lines exactly once, in order, with %o, whichever read method",
    async (chunk, count) => {
      const specs = await parts("s3://data/lines.txt", chunk);
      expect(specs).toHaveLength(count);
      for (const method of METHODS) expect((await readAll(specs, storage, method)).flat()).toEqual(linesOf(THOUSAND_LINES));
      expect(await allText(specs, storage)).toBe(THOUSAND_LINES);
    },
  );

  it("keeps the last line of a file without final newline, one line per part with chunk 2", async () => {
    const specs = await parts("s3://data/abcde.txt", { chunkSize: 2 });
    expect(specs).toHaveLength(5);
    for (const method of METHODS) expect(await readAll(specs, storage, method)).toEqual([["a"], ["b"], ["c"], ["d"], ["e"]]);
    expect(await allText(specs, storage)).toBe("a\nb\nc\nd\ne");
  });

  it("puts a line longer than the chunk whole into the part where it starts, leaving the others empty", async () => {
    const specs = await parts("s3://data/long.txt", { chunkSize: 4 });
    expect(specs).toHaveLength(6);
    for (const method of METHODS) expect(await readAll(specs, storage, method)).toEqual([["x".repeat(20)], [], [], [], [], ["b"]]);
  });

  it("reads a whole no-final-newline object without a byte range and keeps its last line", async () => {
    const ranges: Array<ByteRange | undefined> = [];
    const specs = await parts("s3://data/nofinal.txt", {});
    for (const method of METHODS) expect(await readAll(specs, recording(storage, ranges), method)).toEqual([["one", "two", "three"]]);
    expect(ranges).toEqual([undefined, undefined, undefined, undefined]);
    expect(await allText(specs, storage)).toBe("one\ntwo\nthree");
  });

  it("counts ceil parts when size % chunk == 1 and keeps the last byte", async () => {
    const specs = await parts("s3://data/plus1.txt", { chunkSize: 1000 });
    expect(specs).toHaveLength(11);
    const got = await readAll(specs, storage, "lines");
    expect(got[10]).toEqual(["z"]);
    expect(got.flat()).toEqual(linesOf(`${THOUSAND_LINES}z`));
    expect(await allText(specs, storage)).toBe(`${THOUSAND_LINES}z`);
  });

  it("strips \\r from lines of mixed \\r\\n files while text() keeps the bytes exactly", async () => {
    for (let chunk = 1; chunk <= 12; chunk++) {
      const specs = await parts("s3://data/crlf.txt", { chunkSize: chunk });
      expect((await readAll(specs, storage, "lines")).flat()).toEqual(["a", "b", "c", "", "d"]);
      expect(await allText(specs, storage)).toBe("a\r\nb\nc\r\n\r\nd");
    }
  });

  it("never splits multi-byte UTF-8 characters, whatever the chunk size", async () => {
    const content = "héllo wörld\n日本語のテキスト\n\n🙂 emoji line\nlast";
    for (let chunk = 1; chunk <= 60; chunk += 7) {
      const specs = await parts("s3://data/utf8.txt", { chunkSize: chunk });
      expect(await allText(specs, storage)).toBe(content);
      expect((await readAll(specs, storage, "lines")).flat()).toEqual(linesOf(content));
    }
  });

  it("reads parts of several objects in lexicographic order with their object index", async () => {
    const specs = await parts("s3://data/", { chunkSize: 3000 });
    const objs = specs.map((s) => openPart(s, storage));
    expect([...new Set(objs.map((o) => o.key))]).toEqual(["abcde.txt", "crlf.txt", "lines.txt", "long.txt", "nofinal.txt", "plus1.txt", "utf8.txt"]);
    const lines = objs.filter((o) => o.key === "lines.txt");
    expect(lines.map((o) => [o.bucket, o.part, o.totalParts, o.size, o.objectIndex])).toEqual([1, 2, 3, 4].map((p) => ["data", p, 4, 10_000, 2]));
    let count = 0;
    for await (const line of lines[3]) if (line !== "") count++;
    expect(count).toBe(100);
  });

  it("streams bytes, not objects, for whole and partial parts", async () => {
    const [whole] = await parts("s3://data/abcde.txt", {});
    const [first] = await parts("s3://data/abcde.txt", { chunkSize: 2 });
    for (const spec of [whole, first]) expect((await openPart(spec, storage).stream()).readableObjectMode).toBe(false);
  });

  it("reads an explicit key list in the order given", async () => {
    const specs = await parts(["s3://data/nofinal.txt", "s3://data/abcde.txt"], { chunkSize: 100 });
    expect((await readAll(specs, storage, "text")).flat()).toEqual(["one", "two", "three", "a", "b", "c", "d", "e"]);
  });

  it("fails with NO_SUCH_KEY when the object was deleted after partitioning", async () => {
    await storage.put("data", "gone.txt", "x\ny\n");
    const specs = await parts("s3://data/gone.txt", { chunkSize: 2 });
    await storage.delete("data", "gone.txt");
    await expect(openPart(specs[1], storage).text()).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
  });
});

describe("lineAligned: false (exact byte ranges, Lithops' obj_newline = None)", () => {
  it.each(["s3://data/abcde.txt", "FILE"])("gives each part exactly its byte range, whichever read method (%s)", async (src) => {
    const specs = await parts(src === "FILE" ? path.join(root, "abcde.txt") : src, { chunkSize: 3, lineAligned: false });
    expect(specs.map((p) => [p.start, p.end, p.lineAligned])).toEqual([[0, 3, false], [3, 6, false], [6, 9, false]]);
    expect(await Promise.all(specs.map((p) => openPart(p, storage).text()))).toEqual(["a\nb", "\nc\n", "d\ne"]);
    const streamed = await Promise.all(specs.map(async (p) => Buffer.concat(await collect<Buffer>(await openPart(p, storage).stream())).toString()));
    expect(streamed).toEqual(["a\nb", "\nc\n", "d\ne"]);
    expect(await Promise.all(specs.map(async (p) => collect<string>(openPart(p, storage).lines())))).toEqual([["a", "b"], ["", "c"], ["d", "e"]]);
    expect(openPart(specs[0], storage).exact).toBe(true);
  });

  it("splits 1000 lines into byte ranges that concatenate to the object, cutting lines where they fall", async () => {
    const specs = await parts("s3://data/lines.txt", { chunkNumber: 7, lineAligned: false });
    const texts = await Promise.all(specs.map((p) => openPart(p, storage).text()));
    expect(texts.map((t) => t.length)).toEqual(specs.map((p) => p.end - p.start));
    expect(texts.join("")).toBe(THOUSAND_LINES);
    expect(texts.some((t) => !t.endsWith("\n"))).toBe(true);
  });

  it("rejects a lineAligned that is not a boolean before reading anything", async () => {
    await expect(parts("s3://data/lines.txt", { chunkSize: 10, lineAligned: "no" as unknown as boolean })).rejects.toMatchObject({ code: "TSWREN_BAD_OPTION" });
  });
});

describe("CloudObject over local files", () => {
  it("reads parts of local files with line integrity and exposes the path", async () => {
    const specs = await parts([path.join(root, "lines.txt"), path.join(root, "abcde.txt")], { chunkSize: 1005 });
    expect(specs).toHaveLength(11);
    for (const method of METHODS) expect((await readAll(specs, storage, method)).flat()).toEqual([...linesOf(THOUSAND_LINES), "a", "b", "c", "d", "e"]);
    expect(openPart(specs[0], storage).path).toBe(path.join(root, "lines.txt"));
  });

  it("fails with NO_SUCH_KEY when the file is gone", async () => {
    await writeFile(path.join(root, "gone.txt"), "x\ny\n");
    const specs = await parts(path.join(root, "gone.txt"), {});
    await rm(path.join(root, "gone.txt"));
    await expect(openPart(specs[0], storage).text()).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
  });
});

describe("CloudObject over http", () => {
  const since = (): (() => Array<{ method: string; url: string; range: string | undefined }>) => {
    const mark = server.requests.length;
    return () => server.requests.slice(mark);
  };

  it("splits a URL whose server accepts ranges and reads each part with ranged GETs", async () => {
    const specs = await parts(`${server.base}/r/lines.txt`, { chunkSize: 1000 });
    expect(specs).toHaveLength(10);
    expect(specs[0]).toMatchObject({ kind: "url", size: 10_000, rangesSupported: true });
    const seen = since();
    for (const method of METHODS) expect((await readAll(specs, storage, method)).flat()).toEqual(linesOf(THOUSAND_LINES));
    expect(seen().every((r) => r.method === "GET" && r.range !== undefined)).toBe(true);
    expect(openPart(specs[0], storage).url).toBe(`${server.base}/r/lines.txt`);
  });

  it("makes one part of a URL without range support and reads it with one plain GET", async () => {
    const specs = await parts(`${server.base}/p/lines.txt`, { chunkSize: 1000 });
    expect(specs).toHaveLength(1);
    expect(specs[0]).toMatchObject({ rangesSupported: false, totalParts: 1 });
    const seen = since();
    expect(await openPart(specs[0], storage).text()).toBe(THOUSAND_LINES);
    expect(seen()).toEqual([{ method: "GET", url: "/p/lines.txt", range: undefined }]);
  });

  it("probes with a ranged GET when HEAD is refused", async () => {
    const seen = since();
    const specs = await parts(`${server.base}/h/abcde.txt`, { chunkSize: 2 });
    expect(seen().map((r) => [r.method, r.range])).toEqual([["HEAD", undefined], ["GET", "bytes=0-0"]]);
    expect(specs).toHaveLength(5);
    expect((await readAll(specs, storage, "lines")).flat()).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("still reads the right lines when a server claims ranges but sends whole bodies", async () => {
    const specs = await parts(`${server.base}/l/plus1.txt`, { chunkSize: 1000 });
    expect(specs).toHaveLength(11);
    expect((await readAll(specs, storage, "stream")).flat()).toEqual(linesOf(`${THOUSAND_LINES}z`));
  });

  it("keeps the order of a URL list and the last line of a no-final-newline URL", async () => {
    const specs = await parts([`${server.base}/r/nofinal.txt`, `${server.base}/p/abcde.txt`], { chunkSize: 3 });
    expect(specs.map((s) => [s.objectIndex, s.part, s.totalParts])).toEqual([[0, 1, 5], [0, 2, 5], [0, 3, 5], [0, 4, 5], [0, 5, 5], [1, 1, 1]]);
    expect((await readAll(specs, storage, "bytes")).flat()).toEqual(["one", "two", "three", "a", "b", "c", "d", "e"]);
  });

  it("a ranged GET answered 416 inside the size the server advertised is TSWREN_HTTP, not an empty part", async () => {
    const specs = await parts(`${server.base}/x/lines.txt`, { chunkSize: 1000 });
    expect(specs).toHaveLength(10);
    for (const method of METHODS) {
      await expect(partLines(specs[3], storage, method)).rejects.toMatchObject({ code: "TSWREN_HTTP", message: expect.stringMatching(/416.*10000 bytes/) });
    }
    const exact = await parts(`${server.base}/x/lines.txt`, { chunkSize: 1000, lineAligned: false });
    await expect(openPart(exact[0], storage).text()).rejects.toMatchObject({ code: "TSWREN_HTTP" });
  });

  it("reads exact byte ranges of a URL with lineAligned: false", async () => {
    const specs = await parts(`${server.base}/r/abcde.txt`, { chunkSize: 3, lineAligned: false });
    expect(await Promise.all(specs.map((p) => openPart(p, storage).text()))).toEqual(["a\nb", "\nc\n", "d\ne"]);
  });

  it("makes one whole part of a URL whose server sends no length", async () => {
    const specs = await parts(`${server.base}/n/nofinal.txt`, { chunkSize: 2 });
    expect(specs).toEqual([expect.objectContaining({ size: -1, part: 1, totalParts: 1, rangesSupported: false })]);
    const seen = since();
    expect(await openPart(specs[0], storage).text()).toBe("one\ntwo\nthree");
    expect(seen().map((r) => r.range)).toEqual([undefined]);
  });

  it("reports a missing URL before invoking, without its query string", async () => {
    await expect(parts(`${server.base}/r/missing.txt?X-Amz-Signature=secret`, {})).rejects.toMatchObject({
      code: "TSWREN_NO_SUCH_KEY",
      message: expect.not.stringContaining("secret"),
    });
  });

  it("reports an unreachable URL before invoking", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, "close");
    await expect(parts(`http://127.0.0.1:${port}/x.txt`, {})).rejects.toMatchObject({ code: "TSWREN_HTTP", message: expect.stringContaining("failed") });
  });
});
