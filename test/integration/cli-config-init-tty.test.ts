/**
 * `tswren config init` in a terminal: the built CLI runs in a pseudo-terminal (util-linux
 * `script`), answers each prompt as a person types it once the prompt is on the screen, and the
 * config file it writes is checked. Without a terminal it asks nothing (cli-pywren.test.ts).
 */
import { spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tempDir } from "../helpers/executor.js";

const repo = path.resolve(import.meta.dirname, "../..");
const cli = path.join(repo, "kernel-lib/bin/tswren.js");

/** A prompt to wait for and the keys to type when it shows. */
interface Exchange {
  prompt: string;
  type: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * Run `tswren <args>` in a pseudo-terminal, typing each answer after its prompt appeared.
 * @returns the exit code and everything the terminal showed
 */
function inTerminal(args: string[], dialog: Exchange[]): Promise<{ code: number | null; screen: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: "dumb" };
  delete env["TSWREN_CONFIG"];
  const command = [process.execPath, cli, ...args].map(quote).join(" ");
  const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let screen = "";
  let next = 0;
  let shownUpTo = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no exit within 60 s; waiting for ${JSON.stringify(dialog[next]?.prompt)}; screen:\n${screen}`));
    }, 60_000);
    const onOutput = (chunk: Buffer): void => {
      screen += chunk.toString("utf8");
      const step = dialog[next];
      if (step === undefined) return;
      const at = screen.indexOf(step.prompt, shownUpTo);
      if (at < 0) return;
      shownUpTo = at + step.prompt.length;
      next++;
      child.stdin.write(`${step.type}\r`);
    };
    child.stdout.on("data", onOutput);
    child.stderr.on("data", onOutput);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      if (next < dialog.length) reject(new Error(`exited (${String(code)}) before the prompt ${JSON.stringify(dialog[next]?.prompt)}; screen:\n${screen}`));
      else resolve({ code, screen });
    });
  });
}

describe("tswren config init in a terminal", () => {
  it("asks for the backend, storage, bucket and region, and writes what was typed", async () => {
    const file = path.join(tempDir("cfg-tty"), "config");
    const { code, screen } = await inTerminal(["config", "init", "--file", file], [
      { prompt: "compute backend (", type: "aws_lambda" },
      { prompt: "storage (localhost, s3, minio, ibm_cos) [s3]: ", type: "" },
      { prompt: "storage bucket [", type: "my-pywren-bucket" },
      { prompt: "AWS region [from the AWS chain]: ", type: "eu-central-1" },
    ]);
    expect(code, screen).toBe(0);
    expect(screen).toContain(`wrote ${file}: backend aws_lambda, storage s3, bucket my-pywren-bucket`);
    expect(screen).toContain("next: tswren runtime deploy --backend aws_lambda --create-role");
    expect(parse(readFileSync(file, "utf8"))).toEqual({
      tswren: { backend: "aws_lambda", storage: "s3", storage_bucket: "my-pywren-bucket" },
      aws_lambda: { region: "eu-central-1" },
      s3: { region: "eu-central-1" },
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  }, 90_000);

  it("takes the defaults on Enter and asks no region for localhost; flags given are not asked", async () => {
    const file = path.join(tempDir("cfg-tty-defaults"), "config");
    const { code, screen } = await inTerminal(["config", "init", "--file", file], [
      { prompt: "compute backend (", type: "" },
      { prompt: "storage (localhost, s3, minio, ibm_cos) [localhost]: ", type: "" },
      { prompt: "storage bucket [", type: "" },
    ]);
    expect(code, screen).toBe(0);
    expect(screen).not.toContain("AWS region");
    expect(parse(readFileSync(file, "utf8"))).toEqual({ tswren: { backend: "localhost", storage: "localhost" } });
    const flagged = path.join(tempDir("cfg-tty-flags"), "config");
    const partial = await inTerminal(["config", "init", "--file", flagged, "--backend", "docker"], [
      { prompt: "storage (localhost, s3, minio, ibm_cos) [localhost]: ", type: "" },
      { prompt: "storage bucket [", type: "jobs" },
    ]);
    expect(partial.code, partial.screen).toBe(0);
    expect(partial.screen).not.toContain("compute backend (");
    expect(parse(readFileSync(flagged, "utf8"))).toEqual({ tswren: { backend: "docker", storage: "localhost", storage_bucket: "jobs" } });
  }, 90_000);
});
