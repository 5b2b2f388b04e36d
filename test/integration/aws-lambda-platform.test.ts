/**
 * The Lambda test platform itself: the real `@aws-sdk/client-lambda` and `@aws-sdk/client-iam`
 * against moto (control plane) behind the router, whose invocations run a probe function under
 * AWS's Runtime Interface Emulator with the project's Runtime API client. Lambda's invoke
 * semantics are under test here; the tswren backend has its own tests.
 */
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateFunctionCommand, InvokeCommand, LambdaClient, UpdateFunctionCodeCommand } from "@aws-sdk/client-lambda";
import { strToU8, zipSync } from "fflate";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLambdaPlatform, type EventRecord, type LambdaPlatform } from "../emulators/lambda/index.js";

const PROBE = `
export async function handler(event, context) {
  if (event.mode === "throw") throw new TypeError("thrown on purpose");
  if (event.mode === "hang") await new Promise(() => setInterval(() => {}, 1000));
  if (event.mode === "wait") await new Promise((r) => setTimeout(r, event.ms));
  return { echo: event, requestId: context.awsRequestId, leftMs: context.getRemainingTimeInMillis(), memory: context.memoryLimitInMB, version: "v" + process.env.PROBE_VERSION };
}`;

const zipOf = (source: string): Uint8Array => zipSync({ "index.mjs": strToU8(source) });
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

let platform: LambdaPlatform;
let lambda: LambdaClient;
const ROLE_ARN = "arn:aws:iam::123456789012:role/probe-role";

async function invoke(payload: unknown, type: "Event" | "RequestResponse" = "RequestResponse"): Promise<{ status: number | undefined; body: unknown; functionError: string | undefined; requestId: string | undefined }> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: "probe", InvocationType: type, Payload: Buffer.from(JSON.stringify(payload)) }));
  const text = out.Payload !== undefined && out.Payload !== null ? Buffer.from(out.Payload).toString("utf8") : "";
  return { status: out.StatusCode, body: text === "" ? undefined : (JSON.parse(text) as unknown), functionError: out.FunctionError, requestId: out.$metadata.requestId };
}

beforeAll(async () => {
  platform = await startLambdaPlatform({ slots: 2, eventQueueLimit: 3 });
  const config = { endpoint: platform.endpoint, region: platform.region, credentials };
  lambda = new LambdaClient({ ...config, maxAttempts: 1 });
  const iam = new IAMClient(config);
  await iam.send(new CreateRoleCommand({ RoleName: "probe-role", AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }) }));
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: "probe", Runtime: "nodejs20.x", Role: ROLE_ARN, Handler: "index.handler", Timeout: 2, MemorySize: 256,
      Code: { ZipFile: zipOf(PROBE) }, Environment: { Variables: { PROBE_VERSION: "1" } },
    }),
  );
}, 300_000);

afterAll(async () => {
  lambda?.destroy();
  await platform?.stop();
});

describe("the Lambda router", () => {
  it("runs a RequestResponse invocation with the function's configuration and a request id", async () => {
    const r = await invoke({ x: 1 });
    expect(r.status).toBe(200);
    expect(r.functionError).toBeUndefined();
    expect(r.body).toMatchObject({ echo: { x: 1 }, memory: "256", version: "v1" });
    expect((r.body as { leftMs: number }).leftMs).toBeLessThanOrEqual(2000);
    expect((r.body as { requestId: string }).requestId).toBe(r.requestId);
  });

  it("reports a thrown error with X-Amz-Function-Error and the error object", async () => {
    const r = await invoke({ mode: "throw" });
    expect(r.functionError).toBe("Unhandled");
    expect(r.body).toMatchObject({ errorType: "TypeError", errorMessage: "thrown on purpose" });
  });

  it("ends a function over its timeout with Sandbox.Timedout, and the next invocation runs cold", async () => {
    const r = await invoke({ mode: "hang" });
    expect(r.functionError).toBe("Unhandled");
    expect(r.body).toMatchObject({ errorType: "Sandbox.Timedout" });
    expect((r.body as { errorMessage: string }).errorMessage).toContain("Task timed out after 2.00 seconds");
    expect((await invoke({ again: true })).body).toMatchObject({ echo: { again: true } });
  });

  it("answers Event invocations 202 with a request id, and runs them", async () => {
    const done = once(platform.router.events, "event") as Promise<[EventRecord]>;
    const r = await invoke({ async: true }, "Event");
    expect(r.status).toBe(202);
    expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const [record] = await done;
    expect(record.requestId).toBe(r.requestId);
    expect(JSON.parse(record.outcome.payload)).toMatchObject({ echo: { async: true }, requestId: r.requestId });
  });

  it("refuses with 429 TooManyRequestsException when every slot is busy", async () => {
    const slow = [invoke({ mode: "wait", ms: 1500 }), invoke({ mode: "wait", ms: 1500 })];
    await expect(invoke({ x: 2 })).rejects.toMatchObject({ name: "TooManyRequestsException", $metadata: { httpStatusCode: 429 } });
    // Events queue (up to eventQueueLimit = 3), then are refused too.
    for (let i = 0; i < 3; i++) expect((await invoke({ queued: i }, "Event")).status).toBe(202);
    await expect(invoke({ queued: 3 }, "Event")).rejects.toMatchObject({ name: "TooManyRequestsException" });
    await Promise.all(slow);
  });

  it("refuses an Event payload over 256 KB with 413", async () => {
    await expect(invoke({ big: "x".repeat(300 * 1024) }, "Event")).rejects.toMatchObject({ name: "RequestEntityTooLargeException", $metadata: { httpStatusCode: 413 } });
  });

  it("answers 404 ResourceNotFoundException (moto's) for an unknown function", async () => {
    await expect(lambda.send(new InvokeCommand({ FunctionName: "nope", Payload: Buffer.from("{}") }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });

  it("runs the new code after UpdateFunctionCode", async () => {
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: "probe", ZipFile: zipOf(PROBE.replace("echo: event", "echo: event, updated: true")) }));
    expect(await invoke({ y: 1 })).toMatchObject({ body: { updated: true, echo: { y: 1 } } });
  });
});
