import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { attach, functionExecutor, type FunctionExecutor, type ResponseFuture } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";
import { minioSection, suiteMinio } from "../helpers/minio.js";
import { serverlessFixture } from "../helpers/serverless.js";
import { TEST_SIGNING_KEY } from "../helpers/signing.js";

// `tswren replay <call>`: a failed call of a recorded job, run again in another process (the CLI)
// with the same bundle, input and env: its own error with the real stack, or its value.

const bin = path.resolve("kernel-lib/bin/tswren.js");
const dir = tempDir("cli-replay");

function replayCli(config: object, call: string): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, TSWREN_CONFIG: JSON.stringify(config), HOME: dir };
  delete env["TSWREN_CONFIG_FILE"];
  const r = spawnSync(process.execPath, [bin, "replay", call], { cwd: dir, env, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function parseRow(row: string): number {
  const n = Number(row);
  if (Number.isNaN(n)) throw new TypeError(`not a number: ${row}`);
  return n;
}

const waitsForever = async (_x: number, ctx: { signal: AbortSignal }): Promise<never> => {
  await new Promise((resolve) => { ctx.signal.addEventListener("abort", resolve); });
  throw new Error(`stopped: ${(ctx.signal.reason as Error).message}`);
};

const ref = (f: ResponseFuture | undefined): string => `${f?.executorId}/${f?.jobId}/${f?.callId}`;

/** The replay checks, on any backend: a thrown error, a call that succeeded, a timeout. */
async function replayChecks(fx: FunctionExecutor, config: object): Promise<void> {
  const futures = await fx.map(parseRow, ["1", "x2"]);
  expect(await fx.getResult(futures, { throwExcept: false })).toEqual([1, null]);
  const failed = replayCli(config, ref(futures[1]));
  expect(failed.status, failed.stderr).toBe(1);
  expect(failed.stderr).toContain("TypeError: not a number: x2");
  expect(failed.stderr).toMatch(/at parseRow \(/);
  const ok = replayCli(config, `${futures[0]?.executorId}-${futures[0]?.jobId}-0`);
  expect(ok.status, ok.stderr).toBe(0);
  expect(ok.stdout.trim().split("\n").at(-1)).toBe("1");
  const [slow] = await fx.map(waitsForever, [1], { timeout: 1 });
  await fx.getResult([slow as ResponseFuture], { throwExcept: false });
  expect(slow?.status).toBe("error");
  const timedOut = replayCli(config, ref(slow));
  expect(timedOut.status, timedOut.stderr).toBe(1);
  expect(timedOut.stderr).toContain("Error: stopped: call timed out");
}

describe("tswren replay on localhost", () => {
  it("replays a thrown error, a successful call and a timeout from another process", async () => {
    const store = path.join(dir, "store");
    const fx = testExecutor(store);
    try {
      await replayChecks(fx, { localhost_storage: { storage_root: store } });
    } finally {
      await fx.close();
    }
  });

  it("names the problem for a call reference that is not one or a job that is not there", () => {
    const config = { localhost_storage: { storage_root: path.join(dir, "store") } };
    expect(replayCli(config, "nonsense").stderr).toContain("TSWREN_BAD_INPUT: not a call reference");
    expect(replayCli(config, "0123456789abcdef-0/M042/00000").stderr).toContain("TSWREN_NO_SUCH_JOB");
  });
});

describe("tswren replay and fx.replay of attached futures on the OpenWhisk emulator with MinIO", () => {
  const platform = serverlessFixture();

  it("replays a thrown error, a successful call and a timeout of a serverless job", async () => {
    const fx = platform.executor("openwhisk");
    const ow = platform.ow;
    const config = {
      tswren: { backend: "openwhisk", storage: "minio", storage_bucket: fx.config.tswren.storage_bucket },
      minio: minioSection(await suiteMinio()),
      openwhisk: { endpoint: ow.apihost, namespace: ow.namespace, api_key: ow.apiKey, signing_key: TEST_SIGNING_KEY },
    };
    await replayChecks(fx, config);
    const [f] = await fx.map(parseRow, ["x9"]);
    await fx.getResult([f as ResponseFuture], { throwExcept: false });
    const [attached] = await attach(`${f?.executorId}-${f?.jobId}`, { config });
    await attached?.settled();
    expect(attached?.status).toBe("error");
    const other = functionExecutor({ config, dataCleaner: false }); // another executor: the call is found by its job record
    const err: unknown = await other.replay(attached).catch((e: unknown) => e);
    await other.close();
    expect((err as Error).message).toBe("not a number: x9");
    expect((err as Error).name).toBe("TypeError");
  });
});
