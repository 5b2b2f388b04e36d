/**
 * Bad AWS credentials, with moto's IAM checks on (every request's access key and SigV4 signature
 * verified, as AWS does): a key AWS does not know, or a known key with the wrong secret, ends in
 * `TSWREN_COMPUTE_CREDENTIALS` that says where tswren takes credentials from (never showing the
 * secret); a valid key of the same moto passes the same requests, so the refusals are about the
 * credentials. Credentials come from named profiles of a shared credentials file, as `aws
 * configure` writes them.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionExecutor } from "../../kernel-lib/src/index.js";
import { AwsLambdaCompute } from "../../kernel-lib/src/compute/aws-lambda/index.js";
import { validateSection } from "../../kernel-lib/src/config/validate.js";
import { startLambdaPlatform, type LambdaPlatform } from "../emulators/lambda/index.js";
import { TEST_SIGNING_KEY } from "../helpers/signing.js";
import { tempDir } from "../helpers/executor.js";

const BAD_SECRET = "wrong-secret-0123456789abcdefghijklmnopqrstuv";
const ENV_KEYS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"] as const;
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
const dir = tempDir("lambda-credentials");
let platform: LambdaPlatform;
const closers: Array<() => Promise<void>> = [];

/** A user with every permission, created while moto's checks are still off. */
async function createUser(endpoint: string, region: string): Promise<{ id: string; secret: string }> {
  const iam = new IAMClient({ endpoint, region, credentials: { accessKeyId: "setup", secretAccessKey: "setup" } });
  try {
    await iam.send(new CreateUserCommand({ UserName: "tswren-tester" }));
    const everything = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
    await iam.send(new PutUserPolicyCommand({ UserName: "tswren-tester", PolicyName: "everything", PolicyDocument: everything }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "tswren-tester" }))).AccessKey;
    return { id: key?.AccessKeyId ?? "", secret: key?.SecretAccessKey ?? "" };
  } finally {
    iam.destroy();
  }
}

beforeAll(async () => {
  platform = await startLambdaPlatform({ slots: 1 });
  const user = await createUser(platform.endpoint, platform.region);
  const credentials = path.join(dir, "credentials");
  writeFileSync(credentials, [
    `[good]\naws_access_key_id = ${user.id}\naws_secret_access_key = ${user.secret}`,
    `[unknown-key]\naws_access_key_id = AKIAUNKNOWN000000000\naws_secret_access_key = ${BAD_SECRET}`,
    `[wrong-secret]\naws_access_key_id = ${user.id}\naws_secret_access_key = ${BAD_SECRET}`,
  ].join("\n\n") + "\n");
  writeFileSync(path.join(dir, "config"), "");
  for (const k of ENV_KEYS) Reflect.deleteProperty(process.env, k);
  process.env["AWS_SHARED_CREDENTIALS_FILE"] = credentials;
  process.env["AWS_CONFIG_FILE"] = path.join(dir, "config");
  // From here on moto checks every request's key and signature.
  const on = await fetch(`${platform.moto.endpoint}/moto-api/reset-auth`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: "0" });
  expect(on.ok).toBe(true);
}, 300_000);

afterAll(async () => {
  for (const close of closers) await close();
  await platform?.stop();
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) Reflect.deleteProperty(process.env, k);
    else process.env[k] = saved[k];
  }
});

function compute(profile: string): AwsLambdaCompute {
  const lambda = new AwsLambdaCompute(validateSection("aws_lambda", { endpoint: platform.endpoint, region: platform.region, profile, create_role: true, signing_key: TEST_SIGNING_KEY }, "test"));
  closers.push(() => lambda.close());
  return lambda;
}

const CHAIN = /AWS refused the credentials while .*AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or aws_lambda\.profile, ~\/\.aws\/credentials/s;

describe("aws_lambda with bad credentials (moto's IAM checks on)", () => {
  it("a valid key passes the checks: listing the functions works", async () => {
    expect(await compute("good").capabilities.runtimeList?.list()).toEqual([expect.stringMatching(/^no tswren function deployed in region us-east-1/)]);
  });

  it("a key AWS does not know fails with TSWREN_COMPUTE_CREDENTIALS naming the credential chain", async () => {
    const err = await compute("unknown-key").capabilities.runtimeList?.list().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "TSWREN_COMPUTE_CREDENTIALS", message: expect.stringMatching(CHAIN) as string });
    expect((err as Error).message).toContain("UnrecognizedClientException");
  });

  it("a known key with the wrong secret fails the same way, and the secret appears nowhere", async () => {
    const err = await compute("wrong-secret").capabilities.runtimeDeploy?.deploy().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "TSWREN_COMPUTE_CREDENTIALS", message: expect.stringMatching(CHAIN) as string });
    expect(`${String(err)} ${JSON.stringify(err)}`).not.toContain(BAD_SECRET);
  });

  it("a map with bad credentials fails its calls with the same coded error instead of hanging", async () => {
    const fx = functionExecutor({
      backend: "aws_lambda",
      dataCleaner: false,
      config: { localhost_storage: { storage_root: tempDir("lambda-credentials-storage") }, aws_lambda: { endpoint: platform.endpoint, region: platform.region, profile: "unknown-key", create_role: true, signing_key: TEST_SIGNING_KEY } },
    });
    closers.push(() => fx.close());
    const outcome = await fx.map((x: number) => x, [1, 2]).then((futures) => fx.getResult(futures, { timeout: 60 })).then(() => "resolved", (e: unknown) => e);
    expect(outcome).toMatchObject({ message: expect.stringMatching(CHAIN) as string });
  });
});
