import { spawn } from "node:child_process";
import { existsSync, readFileSync, watch } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerExecutor, functionExecutor, RemoteFunctionError, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { caught } from "../helpers/caught.js";
import { tempDir } from "../helpers/executor.js";
import { freshBucket, minioSection, suiteMinio } from "../helpers/minio.js";
import { createTslabHarness } from "../fixtures/tslab-harness.js";
import { dockerCli, startDocker, type DockerService } from "../services/docker.js";

// A real private dockerd (test/services/docker.sh) and an image imported from local files.
const root = tempDir("docker");
let svc: DockerService;
let fx: FunctionExecutor;

function executor(options: Parameters<typeof dockerExecutor>[0] = {}): FunctionExecutor {
  const { config, ...rest } = options;
  return dockerExecutor({
    runtime: svc.image, workers: 2, dataCleaner: false, runtimeMemory: 256, ...rest,
    config: { ...config, docker: { docker_host: svc.dockerHost, ...(config?.["docker"] as object | undefined) }, localhost_storage: { storage_root: root } },
  });
}

/** Names of the containers labelled with a client pid. */
async function containersOf(pid: number): Promise<string[]> {
  const out = await dockerCli(svc.dockerHost, ["ps", "-a", "--filter", `label=tswren.client-pid=${pid}`, "--format", "{{.Names}}"]);
  return out.split("\n").filter((l) => l !== "");
}

/** Resolves when `file` exists in `dir` (awaits the file system event, no sleeping). */
function fileAppears(dir: string, file: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dir, () => {
      if (existsSync(path.join(dir, file))) {
        watcher.close();
        resolve();
      }
    });
    if (existsSync(path.join(dir, file))) {
      watcher.close();
      resolve();
    }
  });
}

beforeAll(async () => {
  svc = await startDocker();
  fx = executor();
});

afterAll(async () => {
  await fx?.close();
  await svc?.stop();
});

describe("docker backend: results and errors", () => {
  it("runs calls inside containers and returns results in input order with full fidelity", async () => {
    const futures = await fx.map((x: number) => {
      const fs = require("node:fs") as typeof import("node:fs");
      return { x: x + 7, inContainer: fs.existsSync("/.dockerenv"), when: new Date(x), set: new Set([x]), bytes: Buffer.from([x]) };
    }, [1, 2, 3, 4]);
    const out = (await fx.getResult(futures)) as Array<{ x: number; inContainer: boolean; when: Date; set: Set<number>; bytes: Uint8Array }>;
    expect(out.map((r) => r.x)).toEqual([8, 9, 10, 11]);
    expect(out.every((r) => r.inContainer)).toBe(true);
    expect(out[2]?.when).toEqual(new Date(3));
    expect(out[3]?.set).toEqual(new Set([4]));
    expect(Buffer.from(out[0]?.bytes ?? []).toString("hex")).toBe("01");
    expect((await containersOf(process.pid)).length).toBeGreaterThan(0);
  });

  it("re-raises a remote error with its message and remote stack", async () => {
    const futures = await fx.map((x: number) => {
      if (x === 2) throw new RangeError(`bad item ${x}`);
      return x;
    }, [1, 2, 3]);
    const err = await fx.getResult(futures).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteFunctionError);
    expect((err as RemoteFunctionError).remoteName).toBe("RangeError");
    expect((err as RemoteFunctionError).remoteStack).toMatch(/RangeError: bad item 2\n\s+at /);
  });
});

describe("docker backend: never hang", () => {
  it("a call past its timeout ends as TSWREN_TIMEOUT within seconds, and the other calls finish", async () => {
    const started = Date.now();
    const futures = await fx.map((x: number) => {
      if (x === 1) for (;;) { /* busy loop */ }
      return x;
    }, [0, 1, 2, 3], { timeout: 2 });
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null, 2, 3]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_TIMEOUT" });
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("a function calling process.exit ends as an error naming process.exit; its slot gets a new container", async () => {
    const futures = await fx.map((x: number) => {
      if (x === 1) process.exit(3);
      return x;
    }, [0, 1, 2]);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null, 2]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_WORKER_EXITED" });
    expect(futures[1]?.error?.message).toMatch(/process\.exit\(3\)/);
    expect(await fx.getResult(await fx.map((x: number) => x * 2, [5, 6]))).toEqual([10, 12]);
  });

  it("a crashing runtime (process.abort) ends as TSWREN_WORKER_CRASHED, and the pool goes on", async () => {
    const futures = await fx.map((x: number) => {
      if (x === 1) process.abort();
      return x;
    }, [0, 1, 2]);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null, 2]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_WORKER_CRASHED" });
    expect(await fx.getResult(await fx.map((x: number) => x + 1, [1]))).toEqual([2]);
  });

  it("a 400 MB allocation under a 128 MB limit ends as TSWREN_OUT_OF_MEMORY (OOMKilled); the slot is replaced", async () => {
    const futures = await fx.map((x: number) => {
      if (x !== 1) return x;
      const big = Buffer.alloc(400 * 1024 * 1024, 1);
      return big.length;
    }, [0, 1, 2], { runtimeMemory: 128 });
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null, 2]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_OUT_OF_MEMORY" });
    expect(futures[1]?.error?.message).toMatch(/128 MB/);
    expect(await fx.getResult(await fx.map((x: number) => x * 3, [1, 2], { runtimeMemory: 128 }))).toEqual([3, 6]);
  });

  it("a container killed from outside mid-call ends its call as TSWREN_WORKER_CRASHED within seconds", async () => {
    // The storage root is mounted at the same path inside the containers: the call writes its
    // container's name there once it runs.
    const marker = `killed-${Date.now()}`;
    const futures = await fx.map((item: { x: number; root: string; marker: string }) => {
      const fs = require("node:fs") as typeof import("node:fs");
      if (item.x !== 1) return item.x;
      fs.writeFileSync(`${item.root}/${item.marker}.tmp`, process.env["TSWREN_CONTAINER"] ?? "");
      fs.renameSync(`${item.root}/${item.marker}.tmp`, `${item.root}/${item.marker}`);
      return new Promise(() => undefined);
    }, [{ x: 0 }, { x: 1 }, { x: 2 }], { extraArgs: { root, marker }, timeout: 300 });
    await fileAppears(root, marker);
    const containerId = readFileSync(path.join(root, marker), "utf8");
    const killedAt = Date.now();
    await dockerCli(svc.dockerHost, ["kill", containerId]);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null, 2]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_WORKER_CRASHED" });
    expect(futures[1]?.error?.message).toMatch(/killed/);
    expect(Date.now() - killedAt).toBeLessThan(30_000);
  });
});

describe("docker backend: executors inside functions", () => {
  it("an executor created inside a call is refused with a coded error naming why (containers never get the engine)", async () => {
    const [future] = await fx.callAsync(async (n: number) => functionExecutor().map((x: number) => x, [n]), 1);
    const err = await caught(fx.getResult(future));
    expect(err).toBeInstanceOf(RemoteFunctionError);
    expect(err.message).toContain("cannot use the docker backend");
    expect(err).toMatchObject({ remoteName: "TswrenError" });
  });
});

describe("docker backend: containers are removed", () => {
  it("close() removes this executor's containers", async () => {
    const own = executor({ workers: 1 });
    await own.getResult(await own.map((x: number) => x, [1]));
    const before = await containersOf(process.pid);
    await own.close();
    const after = await containersOf(process.pid);
    expect(before.length).toBeGreaterThan(after.length);
  });

  it("a plain script's `await fx.close()` settles, removes its containers, and the script exits 0", async () => {
    const script = spawn(process.execPath, [path.join(import.meta.dirname, "../fixtures/docker-script.mjs"), svc.dockerHost, svc.image, root], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    script.stdout.setEncoding("utf8").on("data", (chunk: string) => { out += chunk; });
    const code = await new Promise((resolve) => script.once("exit", resolve));
    expect(out).toContain("closed [2,3]");
    expect(code).toBe(0); // 13 would be Node's "unsettled top-level await"
    expect(await containersOf(script.pid ?? -1)).toEqual([]);
  });

  it("the containers of a client killed with SIGKILL are removed by its reaper", async () => {
    const client = spawn(process.execPath, [path.join(import.meta.dirname, "../fixtures/docker-client.mjs"), svc.dockerHost, svc.image, root], { stdio: ["ignore", "pipe", "inherit"] });
    const pid = client.pid ?? -1;
    await new Promise<void>((resolve, reject) => {
      client.stdout.setEncoding("utf8").on("data", (chunk: string) => { if (chunk.includes("ready")) resolve(); });
      client.once("exit", (code) => { reject(new Error(`the client exited early with ${String(code)}`)); });
    });
    expect((await containersOf(pid)).length).toBe(2);
    const exited = new Promise((resolve) => client.once("exit", resolve));
    client.kill("SIGKILL");
    await exited;
    // The reaper removes them once it sees the client's pipe close; poll the engine until then.
    const deadline = Date.now() + 30_000;
    let left = await containersOf(pid);
    while (left.length > 0 && Date.now() < deadline) left = await containersOf(pid);
    expect(left).toEqual([]);
  });
});

describe("docker backend: bad input fails before anything runs", () => {
  it("a missing engine socket is TSWREN_COMPUTE_UNREACHABLE naming the socket and the fix", async () => {
    const bad = executor({ config: { docker: { docker_host: `unix://${root}/no-such.sock` } } });
    const err = await caught(bad.map((x: number) => x, [1]));
    expect(err.code).toBe("TSWREN_COMPUTE_UNREACHABLE");
    expect(err.message).toContain("no-such.sock");
    expect(err.message).toMatch(/dockerd|docker_host/);
    await bad.close();
  });

  it("a missing image is TSWREN_RUNTIME_MISSING with the build and load commands", async () => {
    const bad = executor({ runtime: "tswren-no-such-image:1" });
    const err = await caught(bad.map((x: number) => x, [1]));
    expect(err.code).toBe("TSWREN_RUNTIME_MISSING");
    expect(err.message).toContain("tswren runtime build --backend docker");
    expect(err.message).toContain("docker load");
    await bad.close();
  });

  it("memory below the minimum is a config error naming the minimum; no container starts", async () => {
    const before = await containersOf(process.pid);
    const err = await caught(Promise.resolve().then(() => executor({ runtimeMemory: 16 })));
    expect(err.code).toBe("TSWREN_CONFIG_BAD_VALUE");
    expect(err.message).toMatch(/runtime_memory.*64/);
    const perCall = await caught(fx.map((x: number) => x, [1], { runtimeMemory: 16 }));
    expect(perCall.message).toMatch(/64/);
    expect(await containersOf(process.pid)).toEqual(before);
  });
});

describe("docker backend: S3 (MinIO) storage", () => {
  it("runs calls whose inputs, statuses and objects live in MinIO, from containers on the host network", async () => {
    const minio = await suiteMinio();
    const s3fx = dockerExecutor({
      runtime: svc.image, workers: 2, storage: "minio", storageBucket: freshBucket("docker"), dataCleaner: false,
      config: { docker: { docker_host: svc.dockerHost, network: "host" }, minio: minioSection(minio) },
    });
    try {
      const storage = await s3fx.storage();
      await storage.put("in/greeting.txt", "hello from MinIO");
      const futures = await s3fx.map(async (key: string, ctx: { storage: { get(k: string): Promise<Buffer>; put(k: string, v: string): Promise<void> } }) => {
        const text = (await ctx.storage.get(key)).toString("utf8");
        await ctx.storage.put(`out/${key.split("/").pop() ?? "x"}`, text.toUpperCase());
        return text.length;
      }, ["in/greeting.txt"]);
      expect(await s3fx.getResult(futures)).toEqual([16]);
      expect((await storage.get("out/greeting.txt")).toString("utf8")).toBe("HELLO FROM MINIO");
      // The job's statuses went through MinIO, not the host's folder.
      expect((await storage.listKeys()).some((k) => k.endsWith("/00000/status.json"))).toBe(true);
    } finally {
      await s3fx.close();
    }
  });
});

describe("docker backend: a notebook cell", () => {
  it("a tslab cell maps with dockerExecutor() over an earlier cell's constant, in containers", async () => {
    const nb = createTslabHarness(process.cwd());
    const nbRoot = tempDir("docker-notebook");
    try {
      await nb.run(['import { dockerExecutor } from "tswren";', "const offset = 100;"].join("\n"));
      await nb.run(
        [
          `const dx = dockerExecutor({ runtime: ${JSON.stringify(svc.image)}, workers: 2, config: { docker: { docker_host: ${JSON.stringify(svc.dockerHost)} }, localhost_storage: { storage_root: ${JSON.stringify(nbRoot)} } } });`,
          'const inDocker = await dx.getResult(await dx.map((x: number) => `${x + offset}:${require("node:fs").existsSync("/.dockerenv")}`, [1, 2, 3]));',
          "await dx.close();",
        ].join("\n"),
      );
      expect(nb.locals["inDocker"]).toEqual(["101:true", "102:true", "103:true"]);
    } finally {
      nb.close();
    }
  });
});
