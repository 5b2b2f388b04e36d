/**
 * The runtime actions on an OpenWhisk platform: one action per memory size,
 * `tswren/tswren-runtime-<version>-<memory>mb`, created from the runtime zip built with the
 * package (`nodejs:20`). Before first use the deployed action's `tswren-version` annotation is
 * checked against the client's version; a missing action is deployed.
 */
import { readFile } from "node:fs/promises";
import { ErrorCodes, TswrenError } from "../../errors.js";
import { PROTOCOL_VERSION } from "../../protocol.js";
import { checkRuntimeVersion } from "../../runtime-version.js";
import { TSWREN_VERSION } from "../../version.js";
import { runtimeActionName, runtimeZipPath, VERSION_ANNOTATION } from "./settings.js";
import type { WhiskSettings } from "./settings.js";
import type { WhiskConnection } from "./whisk-client.js";
import { withTimeouts } from "./whisk-client.js";
import { classifyWhiskError, whiskError } from "./whisk-errors.js";
import type { DeploymentKey } from "../../security/key-store.js";
import { SIGNING_KEY_ENV } from "../../security/signing.js";

/** Annotation holding the id (never the key) of the signing key an action was deployed with. */
export const KEY_ID_ANNOTATION = "tswren-signing-key-id";

/** A deployed runtime action, as `tswren runtime list` shows it. */
export interface DeployedRuntime {
  /** `package/name`. */
  action: string;
  /** Memory of the action in MB, from its name. */
  memoryMb: number | undefined;
  /** The tswren version it was deployed from (`tswren-version` annotation), if any. */
  tswrenVersion: string | undefined;
}

/** Kind of the actions tswren deploys. */
export const ACTION_KIND = "nodejs:20";

const CONTROL_ATTEMPTS = 5;

interface KeyVal {
  key: string;
  value: unknown;
}

function annotation(annotations: unknown, key: string): unknown {
  if (!Array.isArray(annotations)) return undefined;
  return (annotations as KeyVal[]).find((a) => a.key === key)?.value;
}

function memoryFromName(name: string): number | undefined {
  const m = /-(\d+)mb$/.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * The action's time limit for a call timeout: the timeout itself from 60 s up; below, up to 5 s
 * more (at most 60 s, within every platform's bounds) so that a cold start (`/init`, which the
 * platform bounds by the same limit) does not end a short call. The runtime ends the call itself
 * at its timeout (`runtime/src/call-deadline.ts`); the platform's limit then only stops a call
 * that blocks its event loop.
 * @param timeoutS - `runtime_timeout`, seconds
 * @returns the limit, ms
 */
export function actionTimeLimitMs(timeoutS: number): number {
  const timeoutMs = Math.round(timeoutS * 1000);
  return Math.max(timeoutMs, Math.min(timeoutMs + 5_000, 60_000));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Deploys, checks, lists and deletes the runtime actions of one backend's settings. */
export class RuntimeActions {
  private readonly ensured = new Map<number, Promise<string>>();
  private readonly redeploys = new Map<number, Promise<void>>();

  /**
   * @param conn - the platform client
   * @param settings - where and under which name the runtime lives
   */
  constructor(
    private readonly conn: WhiskConnection,
    private readonly settings: WhiskSettings,
    private readonly signing: DeploymentKey,
  ) {}

  /** Name (with package) of the runtime action for a memory size. */
  actionName(memoryMb: number): string {
    return runtimeActionName(this.settings, memoryMb);
  }

  /**
   * The runtime action for a memory size, ready to invoke: checked once (its version annotation),
   * deployed when it does not exist. Concurrent callers share one check.
   * @returns the action name
   * @throws TswrenError `TSWREN_RUNTIME_VERSION` when the deployed action is of another tswren
   *   version, `TSWREN_COMPUTE_CREDENTIALS`, `TSWREN_COMPUTE_UNREACHABLE`, `TSWREN_RUNTIME_MISSING`
   */
  ensure(memoryMb: number): Promise<string> {
    let ready = this.ensured.get(memoryMb);
    if (ready === undefined) {
      ready = this.check(memoryMb);
      this.ensured.set(memoryMb, ready);
      ready.catch(() => { this.ensured.delete(memoryMb); });
    }
    return ready;
  }

  /** Deploy again after an invoke found the action gone (404); concurrent callers share one deploy. */
  redeploy(memoryMb: number): Promise<void> {
    let running = this.redeploys.get(memoryMb);
    if (running === undefined) {
      running = this.deploy(memoryMb).then(() => undefined);
      this.redeploys.set(memoryMb, running);
      void running.finally(() => this.redeploys.delete(memoryMb)).catch(() => undefined);
    }
    return running;
  }

  /**
   * Create or overwrite the package and the runtime action for a memory size.
   * @throws TswrenError `TSWREN_RUNTIME_MISSING` when the runtime zip was not built, or a compute error
   */
  async deploy(memoryMb: number): Promise<DeployedRuntime> {
    const zip = await readFile(runtimeZipPath());
    const action = this.actionName(memoryMb);
    const { key } = this.signing.forDeploy();
    await this.control(`creating package ${this.settings.packageName}`, () =>
      this.conn.api.packages.update(withTimeouts({ name: this.settings.packageName })),
    );
    const body = {
      exec: { kind: ACTION_KIND, code: zip.toString("base64"), binary: true },
      limits: { timeout: actionTimeLimitMs(this.settings.timeoutS), memory: memoryMb },
      // An init parameter: given to the container's environment at /init, not merged into (nor
      // overridable by) the parameters of an invocation.
      parameters: [{ key: SIGNING_KEY_ENV, value: key.reveal(), init: true }],
      annotations: [
        { key: VERSION_ANNOTATION, value: TSWREN_VERSION },
        { key: "tswren-protocol", value: PROTOCOL_VERSION },
        { key: KEY_ID_ANNOTATION, value: key.id },
      ],
    };
    await this.control(`deploying ${action}`, () => this.conn.api.actions.update(withTimeouts({ name: action, action: body })));
    this.ensured.set(memoryMb, Promise.resolve(action));
    return { action, memoryMb, tswrenVersion: TSWREN_VERSION };
  }

  /** The runtime actions in the runtime package (every version and memory size). */
  async list(): Promise<DeployedRuntime[]> {
    const pkg = this.settings.packageName;
    let found: Array<{ name?: string; annotations?: unknown }>;
    try {
      const got = await this.control(`listing package ${pkg}`, () => this.conn.api.packages.get(withTimeouts({ name: pkg })), true);
      found = Array.isArray(got.actions) ? got.actions : [];
    } catch (err) {
      if (err instanceof TswrenError && err.code === ErrorCodes.RUNTIME_MISSING) return [];
      throw err;
    }
    return found
      .filter((a): a is { name: string; annotations?: unknown } => typeof a.name === "string")
      .map((a) => {
        const version = annotation(a.annotations, VERSION_ANNOTATION);
        return { action: `${pkg}/${a.name}`, memoryMb: memoryFromName(a.name), tswrenVersion: typeof version === "string" ? version : undefined };
      })
      .sort((a, b) => a.action.localeCompare(b.action));
  }

  /**
   * Delete the runtime action of one memory size, or of every memory size of the configured
   * runtime name when `memoryMb` is undefined.
   * @returns the names of the deleted actions
   */
  async remove(memoryMb?: number): Promise<string[]> {
    const prefix = `${this.settings.packageName}/${this.settings.runtimeName}-`;
    const targets =
      memoryMb !== undefined ? [this.actionName(memoryMb)] : (await this.list()).map((r) => r.action).filter((a) => a.startsWith(prefix) && a.endsWith("mb"));
    const deleted: string[] = [];
    for (const action of targets) {
      try {
        await this.control(`deleting ${action}`, () => this.conn.api.actions.delete(withTimeouts({ name: action })), true);
        deleted.push(action);
      } catch (err) {
        if (!(err instanceof TswrenError && err.code === ErrorCodes.RUNTIME_MISSING)) throw err;
      }
      const memory = memoryFromName(action);
      if (memory !== undefined) this.ensured.delete(memory);
    }
    return deleted;
  }

  private async check(memoryMb: number): Promise<string> {
    const action = this.actionName(memoryMb);
    let deployed: { annotations?: unknown; limits?: unknown };
    try {
      deployed = await this.control(`checking ${action}`, () => this.conn.api.actions.get(withTimeouts({ name: action, code: false })), true);
    } catch (err) {
      if (!(err instanceof TswrenError && err.code === ErrorCodes.RUNTIME_MISSING)) throw err;
      await this.deploy(memoryMb);
      return action;
    }
    const mismatch = checkRuntimeVersion(annotation(deployed.annotations, VERSION_ANNOTATION), "client");
    if (mismatch !== null) {
      throw new TswrenError(ErrorCodes.RUNTIME_VERSION, `${this.settings.section} action ${action} at ${this.settings.endpoint}: ${mismatch}`);
    }
    this.checkKeyId(action, annotation(deployed.annotations, KEY_ID_ANNOTATION));
    // A time limit below this client's timeout would stop its calls early: raise it (never lower
    // it, so executors with different timeouts on one action do not redeploy in turn).
    const limits = deployed.limits as { timeout?: unknown } | undefined;
    if (typeof limits?.timeout === "number" && limits.timeout < actionTimeLimitMs(this.settings.timeoutS)) await this.deploy(memoryMb);
    return action;
  }

  /** The deployed action must hold the client's key (compared by id): else every call would be refused. */
  private checkKeyId(action: string, deployedId: unknown): void {
    const key = this.signing.current();
    if (deployedId === key.id) return;
    const where = `${this.settings.section} action ${action} at ${this.settings.endpoint}`;
    throw new TswrenError(
      ErrorCodes.SIGNING_KEY,
      typeof deployedId === "string"
        ? `${where} was deployed with another signing key (id ${deployedId}) than this client's (id ${key.id}, from ${this.signing.source() ?? "?"}); redeploy it with \`tswren runtime deploy\`, or configure the key it was deployed with`
        : `${where} was deployed without a signing key; redeploy it with \`tswren runtime deploy\``,
    );
  }

  /**
   * One control-plane request with bounded retries of throttling and network failures.
   * @param missingIsRuntimeMissing - a 404 becomes `TSWREN_RUNTIME_MISSING` (callers catch it)
   */
  private async control<R>(doing: string, request: () => Promise<R>, missingIsRuntimeMissing = false): Promise<R> {
    const ctx = { keyName: this.settings.auth.keyName, endpoint: this.settings.endpoint, doing, section: this.settings.section };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.conn.authorize();
        return await request();
      } catch (err) {
        if (err instanceof TswrenError) throw err;
        const failure = classifyWhiskError(err, this.conn.secrets);
        if (failure.kind === "missing" && missingIsRuntimeMissing) {
          throw new TswrenError(ErrorCodes.RUNTIME_MISSING, `${doing}: not found at ${this.settings.endpoint}`);
        }
        const transient = failure.kind === "throttled" || failure.kind === "network" || failure.kind === "server";
        if (!transient || attempt >= CONTROL_ATTEMPTS) throw whiskError(failure, ctx, err);
        await sleep(250 * 2 ** (attempt - 1));
      }
    }
  }
}
