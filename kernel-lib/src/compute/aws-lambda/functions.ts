/**
 * The tswren functions on Lambda: deploy (create, or update code and configuration when the
 * function exists), wait until Active, list, remove, and make sure one exists before invoking.
 * The execution role is `aws_lambda.role_arn`, else the role `tswren-lambda-role`, created on
 * request (`create_role`, `tswren runtime deploy --create-role`) as PyWren's `create_role` did.
 * Each function gets the deployment's signing key in its environment (`TSWREN_SIGNING_KEY`) and
 * the key's id (never the key) as the tag `tswren:signing-key-id`; a function deployed with
 * another key is refused before anything is invoked.
 */
import { readFile } from "node:fs/promises";
import { CreateRoleCommand, GetRoleCommand, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, ListFunctionsCommand, ListTagsCommand,
  TagResourceCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import type { FunctionConfiguration, UpdateFunctionConfigurationCommandInput } from "@aws-sdk/client-lambda";
import { ErrorCodes, TswrenError } from "../../errors.js";
import type { DeploymentKey } from "../../security/key-store.js";
import { SIGNING_KEY_ENV } from "../../security/signing.js";
import { runtimeFile } from "../runtime-files.js";
import type { LambdaClients } from "./clients.js";
import { classifyLambdaError, lambdaError } from "./lambda-errors.js";
import { DEFAULT_ROLE_NAME, LAMBDA_RUNTIME, TAGS, functionName, functionTags, type LambdaSettings } from "./settings.js";

/** How long deploy waits for a function to become Active. */
const ACTIVE_TIMEOUT_MS = 300_000;

const ASSUME_ROLE = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] });
const ROLE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], Resource: "*" },
    { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"], Resource: "*" },
    { Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: "*" },
  ],
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A deployed tswren function, for `runtime list`. */
export interface DeployedFunction {
  name: string;
  memoryMb: number | undefined;
  tswrenVersion: string | undefined;
  state: string | undefined;
}

/** Deploys, finds and removes the backend's functions. */
export class LambdaFunctions {
  private readonly ensured = new Map<number, Promise<string>>();

  /**
   * @param clients - the Lambda and IAM clients
   * @param settings - the section
   * @param signing - the deployment's signing key
   */
  constructor(private readonly clients: LambdaClients, private readonly settings: LambdaSettings, private readonly signing: DeploymentKey) {}

  /** The function name of a memory size. */
  nameOf(memoryMb: number): string {
    return functionName(this.settings, memoryMb);
  }

  private async fail(err: unknown, doing: string): Promise<never> {
    if (err instanceof TswrenError) throw err;
    throw lambdaError(err, doing, await this.clients.where());
  }

  /** The execution role's ARN (created when asked and missing). */
  async roleArn(): Promise<string> {
    if (this.settings.roleArn !== undefined) return this.settings.roleArn;
    try {
      const found = await this.clients.iam.send(new GetRoleCommand({ RoleName: DEFAULT_ROLE_NAME }));
      if (found.Role?.Arn !== undefined) return found.Role.Arn;
    } catch (err) {
      if (classifyLambdaError(err) !== "missing") return this.fail(err, `looking up the role ${DEFAULT_ROLE_NAME}`);
    }
    if (!this.settings.createRole) {
      throw new TswrenError(ErrorCodes.RUNTIME_MISSING, `the execution role ${DEFAULT_ROLE_NAME} does not exist (${await this.clients.where()}); run \`tswren runtime deploy --backend aws_lambda --create-role\`, or set aws_lambda.role_arn to an existing role`);
    }
    try {
      const created = await this.clients.iam.send(new CreateRoleCommand({ RoleName: DEFAULT_ROLE_NAME, AssumeRolePolicyDocument: ASSUME_ROLE, Description: "Execution role of the tswren runtime functions", Tags: [{ Key: TAGS.managed, Value: "true" }] }));
      await this.clients.iam.send(new PutRolePolicyCommand({ RoleName: DEFAULT_ROLE_NAME, PolicyName: "tswren-runtime", PolicyDocument: ROLE_POLICY }));
      return created.Role?.Arn ?? "";
    } catch (err) {
      return this.fail(err, `creating the role ${DEFAULT_ROLE_NAME}`);
    }
  }

  private configuration(memoryMb: number, role: string, signingKey: string): UpdateFunctionConfigurationCommandInput & { FunctionName: string; Role: string } {
    const s = this.settings;
    return {
      FunctionName: this.nameOf(memoryMb),
      Runtime: LAMBDA_RUNTIME,
      Role: role,
      Handler: "index.handler",
      MemorySize: memoryMb,
      Timeout: Math.ceil(s.timeoutS),
      EphemeralStorage: { Size: s.ephemeralStorageMb },
      Description: "tswren runtime",
      Environment: { Variables: { [SIGNING_KEY_ENV]: signingKey } },
      ...(s.subnetIds.length > 0 ? { VpcConfig: { SubnetIds: s.subnetIds, SecurityGroupIds: s.securityGroupIds } } : {}),
    };
  }

  /**
   * Create or update the function of a memory size and wait until it is Active.
   * @returns its name
   * @throws TswrenError `TSWREN_RUNTIME_MISSING` (no role, no zip), `TSWREN_COMPUTE_CREDENTIALS`, `TSWREN_COMPUTE*`
   */
  async deploy(memoryMb: number = this.settings.memoryMb): Promise<string> {
    const zip = await readFile(runtimeFile("aws-lambda.zip"));
    const role = await this.roleArn();
    const { key } = this.signing.forDeploy();
    const config = this.configuration(memoryMb, role, key.reveal());
    const name = config.FunctionName;
    const tags = functionTags(this.settings, memoryMb, key.id);
    try {
      await this.clients.lambda.send(new CreateFunctionCommand({ ...config, Code: { ZipFile: zip }, Architectures: [this.settings.architecture], Tags: tags }));
    } catch (err) {
      if ((err as Error).name !== "ResourceConflictException") return this.fail(err, `creating the function ${name}`);
      await this.update(name, zip, config, tags);
    }
    await this.waitActive(name);
    return name;
  }

  private async update(name: string, zip: Buffer, config: ReturnType<LambdaFunctions["configuration"]>, tags: Record<string, string>): Promise<void> {
    try {
      await this.clients.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip, Architectures: [this.settings.architecture] }));
      await this.waitActive(name);
      await this.clients.lambda.send(new UpdateFunctionConfigurationCommand(config));
      const arn = (await this.clients.lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration?.FunctionArn ?? name;
      await this.clients.lambda.send(new TagResourceCommand({ Resource: arn, Tags: tags }));
    } catch (err) {
      await this.fail(err, `updating the function ${name}`);
    }
  }

  /** Poll until the function is Active and its last update done. */
  private async waitActive(name: string): Promise<void> {
    const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
    for (let pauseMs = 250; ; pauseMs = Math.min(5_000, pauseMs * 2)) {
      let c: FunctionConfiguration | undefined;
      try {
        c = (await this.clients.lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration;
      } catch (err) {
        await this.fail(err, `waiting for the function ${name} to become Active`);
      }
      if (c?.State === "Failed") throw new TswrenError(ErrorCodes.COMPUTE, `the function ${name} failed to deploy: ${c.StateReason ?? "no reason given"}`);
      if ((c?.State ?? "Active") === "Active" && c?.LastUpdateStatus !== "InProgress") return;
      if (Date.now() > deadline) throw new TswrenError(ErrorCodes.COMPUTE, `the function ${name} is still ${c?.State ?? "?"} after ${ACTIVE_TIMEOUT_MS / 1000} s; check it in the Lambda console`);
      await sleep(pauseMs);
    }
  }

  /**
   * The function of a memory size, deployed on first use when missing (once per backend).
   * @returns its name
   */
  ensure(memoryMb: number): Promise<string> {
    let found = this.ensured.get(memoryMb);
    if (found === undefined) {
      found = this.findOrDeploy(memoryMb);
      this.ensured.set(memoryMb, found);
      found.catch(() => this.ensured.delete(memoryMb));
    }
    return found;
  }

  /** Forget that a function exists (it went missing): the next {@link ensure} deploys it. */
  forget(memoryMb: number): void {
    this.ensured.delete(memoryMb);
  }

  private async findOrDeploy(memoryMb: number): Promise<string> {
    const name = this.nameOf(memoryMb);
    let tags: Record<string, string> | undefined;
    try {
      tags = (await this.clients.lambda.send(new GetFunctionCommand({ FunctionName: name }))).Tags ?? {};
    } catch (err) {
      if (classifyLambdaError(err) !== "missing") return this.fail(err, `looking up the function ${name}`);
    }
    if (tags === undefined) return this.deploy(memoryMb);
    await this.checkKeyId(name, tags[TAGS.keyId]);
    return name;
  }

  /** The function must hold the client's key (compared by id): else every call would be refused. */
  private async checkKeyId(name: string, deployedId: string | undefined): Promise<void> {
    const key = this.signing.current();
    if (deployedId === key.id) return;
    const where = `the function ${name} (${await this.clients.where()})`;
    throw new TswrenError(
      ErrorCodes.SIGNING_KEY,
      deployedId !== undefined
        ? `${where} was deployed with another signing key (id ${deployedId}) than this client's (id ${key.id}, from ${this.signing.source() ?? "?"}); redeploy it with \`tswren runtime deploy --backend aws_lambda\`, or set aws_lambda.signing_key to the key it was deployed with`
        : `${where} was deployed without a signing key; redeploy it with \`tswren runtime deploy --backend aws_lambda\``,
    );
  }

  /** The functions tswren deployed (name prefix + the managed tag). */
  async list(): Promise<DeployedFunction[]> {
    const found: DeployedFunction[] = [];
    try {
      let marker: string | undefined;
      do {
        const page = await this.clients.lambda.send(new ListFunctionsCommand(marker !== undefined ? { Marker: marker } : {}));
        for (const f of page.Functions ?? []) {
          if (f.FunctionName?.startsWith(`${this.settings.functionPrefix}-`) !== true || f.FunctionArn === undefined) continue;
          const tags = (await this.clients.lambda.send(new ListTagsCommand({ Resource: f.FunctionArn }))).Tags ?? {};
          if (tags[TAGS.managed] !== "true") continue;
          found.push({ name: f.FunctionName, memoryMb: f.MemorySize, tswrenVersion: tags[TAGS.version], state: f.State });
        }
        marker = page.NextMarker;
      } while (marker !== undefined);
    } catch (err) {
      return this.fail(err, "listing the functions");
    }
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Delete the tswren functions (of one memory size, or all).
   * @returns the deleted names
   */
  async remove(memoryMb?: number): Promise<string[]> {
    const doomed = (await this.list()).filter((f) => memoryMb === undefined || f.memoryMb === memoryMb);
    for (const f of doomed) {
      try {
        await this.clients.lambda.send(new DeleteFunctionCommand({ FunctionName: f.name }));
      } catch (err) {
        if (classifyLambdaError(err) !== "missing") await this.fail(err, `deleting the function ${f.name}`);
      }
    }
    this.ensured.clear();
    return doomed.map((f) => f.name);
  }
}
