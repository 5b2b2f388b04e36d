/**
 * Runs the pytest suite of the Airflow operators (airflow-operators/tests) from `npm test`: real
 * Airflow 3.3.2 from PyPI in the services cache (test/services/airflow.sh; about 2-3 minutes the
 * first time, cached after), real tswren CLI jobs on local worker processes, and the suite's MinIO
 * with a seeded bucket for the word-count DAG. If Airflow cannot be installed, this test fails
 * (never skips) with the installer's error.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { freshBucket, suiteMinio } from "../helpers/minio.js";
import { runServiceScript } from "../services/moto.js";

const repo = path.resolve(import.meta.dirname, "../..");
const AIRFLOW_SH = path.join(repo, "test/services/airflow.sh");

/** Creates a bucket holding the word-count inputs the pytest suite expects. */
async function seedBucket(): Promise<Record<string, string>> {
  const minio = await suiteMinio();
  const bucket = freshBucket("airflow");
  const s3 = new S3Client({
    endpoint: minio.endpoint, region: minio.region, forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "words/a.txt", Body: "the cat the dog" }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "words/b.txt", Body: "a dog\n" }));
  s3.destroy();
  return { endpoint: minio.endpoint, accessKey: minio.accessKey, secretKey: minio.secretKey, bucket };
}

/** Runs pytest with the venv's python; resolves with its exit code and output. */
function pytest(python: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ["-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "airflow-operators/tests"], {
      cwd: repo, env, stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer): void => {
      output += chunk.toString();
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("Airflow operators (pytest in a real Airflow 3)", () => {
  it("the tswren-airflow pytest suite passes: each operator, XComs, failures, MinIO, on_kill, bad input", async () => {
    const python = await runServiceScript(AIRFLOW_SH, "install");
    const minio = await seedBucket();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TSWREN_TEST_MINIO: JSON.stringify(minio),
      TSWREN_TEST_CLI: JSON.stringify([process.execPath, path.join(repo, "kernel-lib/bin/tswren.js")]),
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
    };
    delete env.TSWREN_CONFIG;
    delete env.TSWREN_CONFIG_FILE;
    const { code, output } = await pytest(python, env);
    if (code !== 0) console.error(output.slice(-20_000));
    expect(output).toMatch(/\b8 passed\b/);
    expect(code).toBe(0);
  }, 1_800_000);
});
