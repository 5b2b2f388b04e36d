/**
 * The S3 storage backend against a real MinIO server: the shared storage contract, then what is
 * specific to S3 (credentials, unreachable endpoints, paging, ranged reads, a server that stops)
 * and the IBM COS API-key path against a local IAM token endpoint.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { buffer, text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CONFIG_SCHEMA } from "../../kernel-lib/src/config/schema.js";
import { TswrenError } from "../../kernel-lib/src/errors.js";
import { IbmIamTokenProvider } from "../../kernel-lib/src/storage/ibm-iam.js";
import type { ConfigSection } from "../../kernel-lib/src/config/types.js";
import { validateSection } from "../../kernel-lib/src/config/validate.js";
import { createStorageBackend } from "../../kernel-lib/src/storage/registry.js";
import { S3Storage, s3StorageOptions } from "../../kernel-lib/src/storage/s3.js";
import { storageContract } from "../contract/storage.contract.js";
import type { MinioEndpoint } from "../global-setup.js";
import { startMinio } from "../services/minio.js";
import { freshBucket, minioSection, suiteMinio } from "../helpers/minio.js";

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A `minio` section written by hand, validated and defaulted like a loaded one. */
function minio(raw: Record<string, unknown>): ConfigSection<"minio"> {
  return validateSection("minio", raw, "test");
}

async function rejection(p: Promise<unknown>): Promise<TswrenError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TswrenError);
  return err as TswrenError;
}

storageContract("minio", async () => {
  const backend = await createStorageBackend("minio", minioSection(await suiteMinio()));
  return { backend, bucket: freshBucket("contract"), dispose: () => Promise.resolve() };
});

describe("S3 storage on MinIO", () => {
  let m: MinioEndpoint;
  let s3: S3Storage;
  let bucket: string;
  beforeAll(async () => {
    m = await suiteMinio();
    s3 = new S3Storage(s3StorageOptions("minio", minio(minioSection(m))));
    bucket = freshBucket("specific");
    await s3.ensureBucket(bucket);
  });
  afterAll(() => s3.close());

  it("the registry creates s3, ibm_cos and minio backends from their config sections", async () => {
    const sections = {
      s3: { endpoint: m.endpoint, access_key_id: m.accessKey, secret_access_key: m.secretKey, force_path_style: true },
      ibm_cos: { endpoint: m.endpoint, access_key_id: m.accessKey, secret_access_key: m.secretKey },
      minio: minioSection(m),
    };
    for (const [name, config] of Object.entries(sections)) {
      const backend = await createStorageBackend(name, config);
      expect(backend.name).toBe(name);
      await backend.put(bucket, `registry/${name}`, name);
      expect((await backend.get(bucket, `registry/${name}`)).toString()).toBe(name);
      await backend.close();
    }
  });

  it("the s3 section without keys uses the AWS default credential chain", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", m.accessKey);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", m.secretKey);
    const s = new S3Storage(s3StorageOptions("s3", validateSection("s3", { endpoint: m.endpoint, force_path_style: true }, "test")));
    try {
      expect(await s.bucketExists(bucket)).toBe(true);
    } finally {
      await s.close();
      vi.unstubAllEnvs();
    }
  });

  it("ensureBucket creates a missing bucket once, even when two clients race", async () => {
    const name = freshBucket("race");
    const other = new S3Storage(s3StorageOptions("minio", minio(minioSection(m))));
    expect(await s3.bucketExists(name)).toBe(false);
    await Promise.all([s3.ensureBucket(name), other.ensureBucket(name), other.ensureBucket(name)]);
    expect(await s3.bucketExists(name)).toBe(true);
    await other.close();
  });

  it("wrong credentials give TSWREN_STORAGE_CREDENTIALS on the first call, naming the keys but never the secret", async () => {
    const cases = [
      { ...minioSection(m), access_key_id: "tswren-nobody", secret_access_key: "s3cr3t-wrong-key-value" },
      { ...minioSection(m), secret_access_key: "s3cr3t-wrong-key-value" },
    ];
    for (const section of cases) {
      const s = new S3Storage(s3StorageOptions("minio", minio(section)));
      for (const call of [() => s.ensureBucket(freshBucket("creds")), () => s.bucketExists(bucket), () => s.get(bucket, "k"), () => s.put(bucket, "k", "v"), () => s.list(bucket, "")]) {
        const err = await rejection(call());
        expect(err.code).toBe("TSWREN_STORAGE_CREDENTIALS");
        expect(err.message).toContain("minio.access_key_id and minio.secret_access_key");
        expect(err.message).not.toContain("s3cr3t-wrong-key-value");
        expect(err.message).not.toContain(m.secretKey);
      }
      await s.close();
    }
  });

  it("an unreachable endpoint gives TSWREN_STORAGE_UNREACHABLE naming it, within seconds", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const s = new S3Storage(s3StorageOptions("minio", minio({ ...minioSection(m), endpoint })));
    const started = Date.now();
    const err = await rejection(s.ensureBucket("tswren-unreachable"));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.code).toBe("TSWREN_STORAGE_UNREACHABLE");
    expect(err.message).toContain(endpoint);
    expect((await rejection(s.get("b", "k"))).code).toBe("TSWREN_STORAGE_UNREACHABLE");
    await s.close();
  });

  it("a server that accepts but never answers gives TSWREN_STORAGE_UNREACHABLE after the socket timeout", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const s = new S3Storage(s3StorageOptions("minio", minio({ ...minioSection(m), endpoint }), { socketTimeoutMs: 300, maxAttempts: 2 }));
    try {
      const err = await rejection(s.get("b", "k"));
      expect(err.code).toBe("TSWREN_STORAGE_UNREACHABLE");
      expect(err.message).toContain(endpoint);
    } finally {
      await s.close();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("lists more than 1000 keys by paging, in order, and deletes them in batches", async () => {
    const keys = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(5, "0")}`);
    for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => s3.put(bucket, k, k)));
    const listed = await s3.list(bucket, "many/");
    expect(listed.map((o) => o.key)).toEqual(keys);
    expect(listed.every((o) => o.size === 10)).toBe(true);
    await s3.deleteMany(bucket, [...keys, "many/never-there"]);
    expect(await s3.list(bucket, "many/")).toEqual([]);
  });

  it("reads ranges and streams of a large object, many in parallel", async () => {
    const data = randomBytes(4 << 20);
    await s3.put(bucket, "big/blob", data);
    const info = await s3.head(bucket, "big/blob");
    expect(info).toMatchObject({ key: "big/blob", size: data.length });
    expect(info.etag).toMatch(/^[0-9a-f-]+$/);
    expect(Math.abs(info.lastModifiedMs - Date.now())).toBeLessThan(60_000);
    const part = 1 << 16;
    const reads = Array.from({ length: 64 }, (_, i) => s3.get(bucket, "big/blob", { start: i * part, end: (i + 1) * part - 1 }));
    expect(Buffer.concat(await Promise.all(reads)).equals(data.subarray(0, 64 * part))).toBe(true);
    const streamed = await buffer(await s3.getStream(bucket, "big/blob", { start: 1000 }));
    expect(streamed.equals(data.subarray(1000))).toBe(true);
    expect((await s3.get(bucket, "big/blob", { start: data.length + 5 })).length).toBe(0);
    expect(await text(await s3.getStream(bucket, "big/blob", { start: data.length }))).toBe("");
  });

  it("head of a key in a missing bucket is TSWREN_NO_SUCH_BUCKET, in an existing one TSWREN_NO_SUCH_KEY", async () => {
    expect((await rejection(s3.head("tswren-no-such-bucket-y", "k"))).code).toBe("TSWREN_NO_SUCH_BUCKET");
    const err = await rejection(s3.head(bucket, "nope"));
    expect(err.code).toBe("TSWREN_NO_SUCH_KEY");
    expect(err.message).toContain(m.endpoint);
  });

  it("rejects empty and over-long keys with TSWREN_BAD_KEY before sending anything", async () => {
    expect((await rejection(s3.put(bucket, "", "x"))).code).toBe("TSWREN_BAD_KEY");
    expect((await rejection(s3.get(bucket, "k".repeat(1025)))).code).toBe("TSWREN_BAD_KEY");
  });
});

describe("S3 storage when MinIO stops mid-job", () => {
  it("an open stream ends and later calls fail with TSWREN_STORAGE_UNREACHABLE, without hanging", async () => {
    const own = await startMinio();
    const s = new S3Storage(s3StorageOptions("minio", minio(minioSection(own))));
    try {
      await s.ensureBucket("tswren-stop");
      await s.put("tswren-stop", "blob", randomBytes(32 << 20));
      const stream = await s.getStream("tswren-stop", "blob");
      const consumed = text(stream).then(() => "ended", (e: unknown) => (e instanceof TswrenError ? e.code : "raw error"));
      await own.stop();
      expect(["ended", "TSWREN_STORAGE_UNREACHABLE"]).toContain(await consumed);
      const started = Date.now();
      const err = await rejection(s.get("tswren-stop", "blob"));
      expect(err.code).toBe("TSWREN_STORAGE_UNREACHABLE");
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await rejection(s.put("tswren-stop", "new", "x"))).code).toBe("TSWREN_STORAGE_UNREACHABLE");
    } finally {
      await s.close();
      await own.stop();
    }
  });
});

/** A local stand-in for IBM IAM's token endpoint (IAM cannot run here) that also records COS requests. */
class IamEmulator {
  readonly server: Server;
  tokensIssued = 0;
  lifetimeS = 3600;
  refuse = false;
  readonly cosRequests: IncomingMessage["headers"][] = [];
  constructor(private readonly apiKey: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url !== "/identity/token") {
      this.cosRequests.push(req.headers);
      res.writeHead(200).end();
      return;
    }
    const form = new URLSearchParams(await text(req));
    const ok = !this.refuse && form.get("grant_type") === "urn:ibm:params:oauth:grant-type:apikey" && form.get("apikey") === this.apiKey;
    if (!ok) {
      // Echo the key, as a careless server might: the client must not repeat it.
      const body = { errorCode: "BXNIM0415E", errorMessage: `Provided API key could not be found: ${form.get("apikey") ?? ""}` };
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify(body));
      return;
    }
    this.tokensIssued++;
    const body = { access_token: `token-${this.tokensIssued}`, token_type: "Bearer", expires_in: this.lifetimeS, expiration: Math.floor(Date.now() / 1000) + this.lifetimeS };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  }
}

describe("IBM COS api_key: IAM token exchange", () => {
  const apiKey = `ibm-api-key-${randomBytes(8).toString("hex")}`;
  const iam = new IamEmulator(apiKey);
  let base: string;
  beforeAll(async () => {
    base = await iam.start();
  });
  afterAll(() => new Promise((resolve) => iam.server.close(resolve)));

  it("fetches one token for concurrent callers and reuses it until 5 minutes before expiry", async () => {
    let nowMs = Date.now();
    const p = new IbmIamTokenProvider({ apiKey, section: "ibm_cos", tokenUrl: `${base}/identity/token`, nowMs: () => nowMs });
    const first = await Promise.all([p.token(), p.token(), p.token()]);
    expect(new Set(first).size).toBe(1);
    expect(p.fetchCount).toBe(1);
    nowMs += 54 * 60_000;
    expect(await p.token()).toBe(first[0]);
    nowMs += 2 * 60_000; // 4 minutes left: refresh
    expect(await p.token()).not.toBe(first[0]);
    expect(p.fetchCount).toBe(2);
  });

  it("keeps a still-valid token when a refresh fails, and fails once it has expired", async () => {
    let nowMs = Date.now();
    const p = new IbmIamTokenProvider({ apiKey, section: "ibm_cos", tokenUrl: `${base}/identity/token`, nowMs: () => nowMs });
    const token = await p.token();
    iam.refuse = true;
    try {
      nowMs += 57 * 60_000;
      expect(await p.token()).toBe(token);
      nowMs += 4 * 60_000;
      expect((await rejection(p.token())).code).toBe("TSWREN_STORAGE_CREDENTIALS");
    } finally {
      iam.refuse = false;
    }
  });

  it("a refused api_key is TSWREN_STORAGE_CREDENTIALS naming ibm_cos.api_key, never the key", async () => {
    const wrong = "wrong-ibm-key-value-123";
    const p = new IbmIamTokenProvider({ apiKey: wrong, section: "ibm_cos", tokenUrl: `${base}/identity/token` });
    const err = await rejection(p.token());
    expect(err.code).toBe("TSWREN_STORAGE_CREDENTIALS");
    expect(err.message).toContain("ibm_cos.api_key");
    expect(err.message).toContain("Provided API key could not be found");
    expect(JSON.stringify({ message: err.message, stack: err.stack })).not.toContain(wrong);
  });

  it("an unreachable IAM endpoint is TSWREN_STORAGE_UNREACHABLE naming it", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/identity/token`;
    const err = await rejection(new IbmIamTokenProvider({ apiKey, section: "ibm_cos", tokenUrl: url }).token());
    expect(err.code).toBe("TSWREN_STORAGE_UNREACHABLE");
    expect(err.message).toContain(url);
    expect(err.message).not.toContain(apiKey);
  });

  it("the ibm_cos backend sends the token as Authorization: Bearer instead of a signature", async () => {
    const options = s3StorageOptions("ibm_cos", { endpoint: base, api_key: apiKey }, { iamTokenUrl: `${base}/identity/token` });
    const s = new S3Storage(options);
    const issuedBefore = iam.tokensIssued;
    expect(await s.bucketExists("some-bucket")).toBe(true);
    expect(await s.bucketExists("other-bucket")).toBe(true);
    await s.close();
    expect(iam.tokensIssued).toBe(issuedBefore + 1);
    const auth = iam.cosRequests.slice(-2).map((h) => h.authorization);
    expect(auth).toEqual([`Bearer token-${issuedBefore + 1}`, `Bearer token-${issuedBefore + 1}`]);
  });

  it("a store that refuses the token gives TSWREN_STORAGE_CREDENTIALS naming ibm_cos.api_key", async () => {
    const m = await suiteMinio();
    const s = new S3Storage(s3StorageOptions("ibm_cos", { endpoint: m.endpoint, api_key: apiKey }, { iamTokenUrl: `${base}/identity/token` }));
    const err = await rejection(s.list("tswren-any", ""));
    expect(err.code).toBe("TSWREN_STORAGE_CREDENTIALS");
    expect(err.message).toContain("ibm_cos.api_key");
    expect(err.message).not.toContain(apiKey);
    await s.close();
  });

  it("config errors: half-set keys, no ibm_cos credentials, an ibm_cos region gives the endpoint", () => {
    expect(() => s3StorageOptions("minio", minio({ endpoint: "http://x", access_key_id: "a" }))).toThrow(/minio\.secret_access_key/);
    expect(() => s3StorageOptions("ibm_cos", { region: "us-south" })).toThrow(/ibm_cos\.api_key/);
    expect(s3StorageOptions("ibm_cos", { region: "eu-de", api_key: "k" }).endpoint).toBe("https://s3.eu-de.cloud-object-storage.appdomain.cloud");
    const priv = { endpoint: "https://public", private_endpoint: "https://private", api_key: "k" };
    expect(s3StorageOptions("ibm_cos", priv, { usePrivateEndpoint: true }).endpoint).toBe("https://private");
    expect(s3StorageOptions("ibm_cos", priv, { usePrivateEndpoint: false }).endpoint).toBe("https://public");
  });
});

describe("docs/backends/s3.md", () => {
  it("has one row per schema key of s3, ibm_cos and minio, with the schema's default, required and secret columns", () => {
    const docs = readFileSync(new URL("../../docs/backends/s3.md", import.meta.url), "utf8");
    for (const name of ["s3", "ibm_cos", "minio"] as const) {
      const spec = CONFIG_SCHEMA[name];
      const body = docs.split(`\n## \`${name}\`\n`)[1]?.split("\n## ")[0] ?? "";
      const rows = body.split("\n").filter((l) => l.startsWith("| `")).map((l) => l.split(" | "));
      const oneOf: readonly (readonly string[])[] = "requireOneOf" in spec ? spec.requireOneOf : [];
      const expected = Object.entries(spec.keys).map(([key, ks]: [string, { default?: string | number | boolean; required?: boolean; secret?: boolean }]) => {
        const group = oneOf.find((g) => g.includes(key));
        const required = ks.required === true ? "yes" : group === undefined ? "" : `one of ${group.map((k) => `\`${k}\``).join(", ")}`;
        return [`| \`${key}\``, ks.default === undefined ? "" : `\`${String(ks.default)}\``, required, ks.secret === true ? "yes" : ""];
      });
      expect(rows.map((r) => [r[0], r[2], r[4], r[5]])).toEqual(expected);
    }
  });
});
