import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerExecutor } from "../../kernel-lib/src/index.js";
import { tempDir } from "../helpers/executor.js";
import { dockerCli, startDocker, type DockerService } from "../services/docker.js";

// `tswren runtime build|list|delete --backend docker` against the private dockerd; the base image
// is the test image imported from local files (no registry here).
const CLI = path.join(import.meta.dirname, "../../kernel-lib/bin/tswren.js");
const root = tempDir("docker-images");
const tag = `tswren-cli-test:${process.pid}`;
let svc: DockerService;

function tswren(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, DOCKER_HOST: svc.dockerHost, TSWREN_CONFIG_FILE: path.join(root, "none.yaml") }, encoding: "utf8", timeout: 300_000, cwd: root }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), out: stdout + stderr });
    });
  });
}

beforeAll(async () => {
  svc = await startDocker();
  writeFileSync(path.join(root, "none.yaml"), "tswren:\n  backend: docker\n");
});

afterAll(async () => {
  await dockerCli(svc.dockerHost, ["rmi", "-f", tag]).catch(() => undefined);
  await svc?.stop();
});

describe("docker runtime images", () => {
  it("runtime build makes a labelled image from a base image, list shows it, and calls run in it", async () => {
    const built = await tswren(["runtime", "build", "--backend", "docker", "--from", svc.image, "--name", tag]);
    expect(built.out).toContain(`built ${tag}`);
    expect(built.code).toBe(0);
    const listed = await tswren(["runtime", "list", "--backend", "docker"]);
    expect(listed.out).toContain(tag);
    await using fx = dockerExecutor({ runtime: tag, workers: 1, runtimeMemory: 256, config: { docker: { docker_host: svc.dockerHost }, localhost_storage: { storage_root: root } } });
    const out = await fx.getResult(await fx.map((x: number) => `${x}:${process.cwd()}`, [1, 2]));
    expect(out).toEqual(["1:/opt/tswren", "2:/opt/tswren"]);
  });

  it("runtime delete removes it; a missing base image is TSWREN_RUNTIME_MISSING with the fix", async () => {
    const deleted = await tswren(["runtime", "delete", "--backend", "docker", "--name", tag]);
    expect(deleted.out).toContain(`deleted ${tag}`);
    expect((await tswren(["runtime", "list", "--backend", "docker"])).out).not.toContain(tag);
    const bad = await tswren(["runtime", "build", "--backend", "docker", "--from", "tswren-no-such-base:1", "--name", tag]);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain("TSWREN_RUNTIME_MISSING");
    expect(bad.out).toContain("docker load");
  });
});
