/**
 * The aws_lambda backend end to end: the real `@aws-sdk/client-lambda` deploys the runtime zip
 * through moto and invokes it through the router, whose RIE pools run the real runtime (the
 * project's Runtime API client + handler); job data and statuses in real MinIO.
 */
import { GetFunctionCommand, InvokeCommand, LambdaClient, ListTagsCommand } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionExecutor, objects, type CloudObject, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { AwsLambdaCompute } from "../../kernel-lib/src/compute/aws-lambda/index.js";
import { validateSection } from "../../kernel-lib/src/config/validate.js";
import { expectClassicExamples, expectRemoteErrorsAndRetries } from "../helpers/classic.js";
import { freshBucket, minioSection, suiteMinio } from "../helpers/minio.js";
import { startLambdaPlatform, type LambdaPlatform } from "../emulators/lambda/index.js";
import { TEST_SIGNING_KEY, signed } from "../helpers/signing.js";
import { tempDir } from "../helpers/executor.js";
import { generateSigningKey } from "../../kernel-lib/src/security/signing.js";
import type { MinioEndpoint } from "../global-setup.js";

let platform: LambdaPlatform;
const localRoot = tempDir("lambda-localhost-storage");
let minio: MinioEndpoint;
const executors: FunctionExecutor[] = [];
const saved = { id: process.env["AWS_ACCESS_KEY_ID"], secret: process.env["AWS_SECRET_ACCESS_KEY"] };

function executor(section: Record<string, unknown> = {}, options: { timeout?: number; runtimeMemory?: number; retries?: number } = {}): FunctionExecutor {
  const fx = functionExecutor({
    backend: "aws_lambda",
    storage: "minio",
    storageBucket: freshBucket("lambda"),
    dataCleaner: false,
    ...options,
    config: {
      tswren: { retry_sleeps: [0.05, 0.2] },
      minio: minioSection(minio),
      aws_lambda: { endpoint: platform.endpoint, region: platform.region, create_role: true, runtime_timeout: 20, invoke_pool_threads: 8, signing_key: TEST_SIGNING_KEY, ...section },
    },
  });
  executors.push(fx);
  return fx;
}

beforeAll(async () => {
  // The standard AWS chain: credentials from the environment (moto checks no signature).
  process.env["AWS_ACCESS_KEY_ID"] = "testing";
  process.env["AWS_SECRET_ACCESS_KEY"] = "testing";
  // Localhost storage is allowed to the runtimes inside this one folder only.
  [platform, minio] = await Promise.all([startLambdaPlatform({ slots: 4, env: { TSWREN_LOCALHOST_STORAGE_ROOT: localRoot } }), suiteMinio()]);
}, 300_000);

afterAll(async () => {
  for (const fx of executors) await fx.close();
  await platform?.stop();
  process.env["AWS_ACCESS_KEY_ID"] = saved.id;
  process.env["AWS_SECRET_ACCESS_KEY"] = saved.secret;
  if (saved.id === undefined) delete process.env["AWS_ACCESS_KEY_ID"];
  if (saved.secret === undefined) delete process.env["AWS_SECRET_ACCESS_KEY"];
});

const section = (extra: Record<string, unknown> = {}): ReturnType<typeof validateSection<"aws_lambda">> =>
  validateSection("aws_lambda", { endpoint: platform.endpoint, region: platform.region, signing_key: TEST_SIGNING_KEY, ...extra }, "test");

describe("aws_lambda runtime functions", () => {
  it("refuses to deploy without the execution role unless asked to create it", async () => {
    const lambda = new AwsLambdaCompute(section());
    try {
      await expect(lambda.capabilities.runtimeDeploy?.deploy()).rejects.toMatchObject({ code: "TSWREN_RUNTIME_MISSING", message: expect.stringContaining("--create-role") as string });
    } finally {
      await lambda.close();
    }
  });

  it("deploys one tagged function per memory size, Active, idempotently; lists and deletes them", async () => {
    const lambda = new AwsLambdaCompute(section({ create_role: true, tags: "team=data" }));
    try {
      const line = await lambda.capabilities.runtimeDeploy?.deploy(512);
      expect(line).toMatch(/^deployed tswren-nodejs20-.*-512mb/);
      expect(await lambda.capabilities.runtimeDeploy?.deploy(512)).toBe(line); // conflict: update code + configuration
      const name = lambda.functions.nameOf(512);
      const client = new LambdaClient({ endpoint: platform.endpoint, region: platform.region });
      const fn = await client.send(new GetFunctionCommand({ FunctionName: name }));
      expect(fn.Configuration).toMatchObject({ State: "Active", Runtime: "nodejs20.x", MemorySize: 512, Timeout: 180, Handler: "index.handler" });
      const tags = (await client.send(new ListTagsCommand({ Resource: fn.Configuration?.FunctionArn ?? "" }))).Tags;
      expect(tags).toMatchObject({ "tswren:managed": "true", "tswren:runtime": "nodejs20.x", "tswren:memory": "512", team: "data" });
      client.destroy();
      expect((await lambda.capabilities.runtimeList?.list())?.join("\n")).toContain(`${name}\t512 MB`);
      expect(await lambda.capabilities.runtimeDeploy?.remove(512)).toEqual([`deleted ${name}`]);
      expect((await lambda.capabilities.runtimeList?.list())?.join("\n")).not.toContain(name);
    } finally {
      await lambda.close();
    }
  });

  it("rejects runtime_timeout over Lambda's 900 s before anything is invoked", () => {
    expect(() => section({ runtime_timeout: 901 })).toThrow(/runtime_timeout/);
  });
});

describe("aws_lambda end to end", () => {
  let fx: FunctionExecutor;
  beforeAll(() => {
    fx = executor();
  });

  it("runs the classic examples, deploying the function on first use", async () => {
    await expectClassicExamples(fx);
    const [future] = await fx.map((x: number) => x, [1]);
    await fx.getResult();
    expect(future?.workerId).toMatch(/^aws-lambda-[0-9a-f-]{36}$/);
  });

  it("runs a 200-call map in order", async () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    const futures = await fx.map((x: number) => x * 3, items);
    expect(await fx.getResult(futures)).toEqual(items.map((x) => x * 3));
  });

  it("retries failed calls and reports remote errors with their stack", async () => {
    await expectRemoteErrorsAndRetries(fx);
  });

  it("a function that creates an executor inside it returns that executor's futures; clean() removes the inner data", async () => {
    const own = executor();
    const [future] = await own.callAsync(async (n: number) => {
      const inner = functionExecutor();
      return { id: inner.executorId, values: await inner.map((x: number) => x * 10, [n, n + 1]) };
    }, 3);
    const value = (await own.getResult(future)) as unknown as { id: string; values: number[] };
    expect(value.values).toEqual([30, 40]);
    expect(value.id.startsWith(`${own.executorId}-A000-00000-`)).toBe(true);
    const storage = await own.storage();
    await own.clean();
    expect(await storage.listKeys()).toEqual([]);
  });

  it("runs a data job over objects(...) and a mapReduce", async () => {
    const s = await fx.storage();
    await s.put("in/a.txt", "one two\nthree\n");
    await s.put("in/b.txt", "four five six");
    const counts = await fx.mapReduce(
      async (obj: CloudObject) => {
        let n = 0;
        for await (const line of obj.lines()) n += line.split(" ").length;
        return n;
      },
      objects(`s3://${s.bucket}/in/`),
      (ns: number[]) => ns.reduce((a, b) => a + b, 0),
      { chunkSize: 5 },
    );
    expect(await fx.getResult(counts)).toBe(6);
  });

  it("carries a payload over the 256 KB async limit through storage", async () => {
    const big = executor({ chunksize: 400, runtime_timeout: 120 }); // 400 calls run one after another in one invocation
    const items = Array.from({ length: 400 }, (_, i) => `${i}:${"y".repeat(1000)}`);
    const futures = await big.map((s: string) => s.length, items);
    expect(await big.getResult(futures)).toEqual(items.map((s) => s.length));
    // The staged payload holds no credential: they travel in the signed event.
    const storage = await big.storage();
    const staged = (await storage.listKeys()).filter((k) => k.endsWith(".json") && k.includes("lambda-payload-"));
    expect(staged).toHaveLength(1);
    const text = (await storage.get(staged[0] ?? "")).toString("utf8");
    expect(text).toContain('"callId":"00399"');
    expect(text).not.toContain(minio.secretKey);
  });

  it("ends a call that never returns with a timeout error within seconds of its limit", async () => {
    const slow = executor({ runtime_timeout: 4 });
    const started = Date.now();
    const [future] = await slow.map(() => {
      for (;;) {
        // a busy loop: only a thread the handler terminates ends it
      }
    }, [0]);
    await expect(slow.getResult([future])).rejects.toMatchObject({ message: expect.stringMatching(/ran longer than/) as string });
    expect(future?.error).toMatchObject({ code: "TSWREN_TIMEOUT", remoteName: "TimeoutError" });
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("ends a call that runs out of memory with its cause", async () => {
    const hungry = executor({}, { runtimeMemory: 256 });
    const [future] = await hungry.map(() => {
      const keep: number[][] = [];
      for (;;) keep.push(Array.from({ length: 1e6 }, (_, i) => i));
    }, [0]);
    await expect(hungry.getResult([future])).rejects.toMatchObject({ message: expect.stringMatching(/out of memory/) as string });
  });

  it("refuses unsigned and forged events without reading or writing anything", async () => {
    const client = new LambdaClient({ endpoint: platform.endpoint, region: platform.region });
    const s = await executor().storage();
    await s.put("marker", "x");
    const lambda = new AwsLambdaCompute(section({ create_role: true }));
    const name = await lambda.functions.ensure(256);
    await lambda.close();
    // A payload shaped like a job's: an unsigned runtime would have written failed statuses for it.
    const payload = {
      protocolVersion: 1, tswrenVersion: "0.1.0", executorId: "abc123-9", jobId: "M000", funcKey: "x", storage: { backend: "minio", bucket: s.bucket, prefix: "tswren.jobs", config: minioSection(minio) },
      calls: [{ callId: "00000", attempt: 1, input: { kind: "inline", bytes: "" } }],
    };
    const forged = { ...signed(payload), signature: "0".repeat(64) };
    const other = { ...signed(payload), keyId: "someone-else" };
    for (const event of [payload, forged, other]) {
      const out = await client.send(new InvokeCommand({ FunctionName: name, InvocationType: "RequestResponse", Payload: Buffer.from(JSON.stringify(event)) }));
      expect(out.FunctionError).toBe("Unhandled");
      expect(Buffer.from(out.Payload ?? new Uint8Array()).toString("utf8")).toMatch(/unauthorized/);
    }
    expect(await s.listKeys()).toEqual(["marker"]);
    client.destroy();
  });

  it("refuses a function deployed with another signing key before invoking anything", async () => {
    const lambda = new AwsLambdaCompute(section({ create_role: true }));
    await lambda.functions.ensure(256);
    await lambda.close();
    const stranger = executor({ signing_key: generateSigningKey() });
    await expect(stranger.map((x: number) => x, [1])).rejects.toMatchObject({ code: "TSWREN_SIGNING_KEY", message: expect.stringContaining("another signing key") as string });
  });

  it("runs a staged remote-invoker job on localhost storage inside the runtime's allowed folder", async () => {
    const local = functionExecutor({
      backend: "aws_lambda",
      dataCleaner: false,
      config: {
        localhost_storage: { storage_root: localRoot },
        aws_lambda: { endpoint: platform.endpoint, region: platform.region, create_role: true, runtime_timeout: 20, signing_key: TEST_SIGNING_KEY },
      },
    });
    executors.push(local);
    const items = Array.from({ length: 30 }, (_, i) => i);
    const futures = await local.map((x: number) => x * 2, items, { remoteInvoker: true });
    expect(await local.getResult(futures)).toEqual(items.map((x) => x * 2));
  });

  it("runs a job through the remote invoker", async () => {
    const remote = executor({ remote_invoker: true });
    const items = Array.from({ length: 20 }, (_, i) => i);
    const futures = await remote.map((x: number) => x + 1, items);
    expect(await remote.getResult(futures)).toEqual(items.map((x) => x + 1));
  });
});
