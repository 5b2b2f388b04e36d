/**
 * The emulator's entity store: packages and the actions in them (or in the namespace itself),
 * created, updated, read, listed and deleted with OpenWhisk's semantics (409 without overwrite,
 * patch version bump on update, unset fields kept on update, 409 on deleting a non-empty package).
 */
import { HttpError, isObject } from "./http-json.js";
import { actionLimits, checkName, MESSAGES } from "./limits.js";
import type { ActionDoc, KeyValue, LimitBounds, PackageDoc } from "./types.js";

/** Where an action lives: `name` or `pkg/name`. */
export interface ActionPath {
  pkg?: string;
  name: string;
}

/** An action resolved for an invoke: its document (with code) and the merged default parameters. */
export interface ResolvedAction {
  doc: ActionDoc;
  /** `pkg/name` or `name`. */
  path: string;
  /** Package parameters overlaid by action parameters (run parameters only, not `init` ones). */
  runParameters: Record<string, unknown>;
  /** Parameters marked `init: true`, passed in `/init`'s `env`. */
  initEnv: Record<string, unknown>;
  /** Identifies a container's code: the path and version. */
  containerKey: string;
}

/** The list window of `?limit&skip` (OpenWhisk: limit default 30, at most 200). */
export interface ListWindow {
  limit: number;
  skip: number;
}

const ZIP_BASE64_PREFIX = "UEsDB"; // "PK\x03\x04"

/** Packages and actions of one namespace. */
export class ActionStore {
  private readonly packages = new Map<string, PackageDoc>();
  private readonly actions = new Map<string, ActionDoc>();

  /**
   * @param namespace - the namespace the entities belong to
   * @param maxCodeBytes - limit for `exec.code` (413 over it)
   * @param bounds - allowed ranges for `limits`
   */
  constructor(
    private readonly namespace: string,
    private readonly maxCodeBytes: number,
    private readonly bounds: LimitBounds,
  ) {}

  /**
   * Create or update a package.
   * @param name - package name
   * @param body - the PUT body
   * @param overwrite - `?overwrite=true`
   * @returns the stored package
   * @throws HttpError 409 when it exists and overwrite is off, 400 for a bad name or a binding
   */
  putPackage(name: string, body: Record<string, unknown>, overwrite: boolean): PackageDoc {
    checkName(name);
    if (isObject(body["binding"]) && Object.keys(body["binding"]).length > 0) {
      throw new HttpError(400, "Package bindings are not supported by this emulator.");
    }
    const old = this.packages.get(name);
    if (old && !overwrite) throw new HttpError(409, MESSAGES.exists);
    const doc: PackageDoc = {
      namespace: this.namespace,
      name,
      version: old ? bumpVersion(old.version) : "0.0.1",
      publish: typeof body["publish"] === "boolean" ? body["publish"] : (old?.publish ?? false),
      binding: {},
      parameters: keyValues(body["parameters"], "parameters") ?? old?.parameters ?? [],
      annotations: keyValues(body["annotations"], "annotations") ?? old?.annotations ?? [],
      updated: Date.now(),
    };
    this.packages.set(name, doc);
    return doc;
  }

  /**
   * A package with the list of its actions.
   * @param name - package name
   * @returns the package
   * @throws HttpError 404 when absent
   */
  getPackage(name: string): PackageDoc {
    const doc = this.packages.get(name);
    if (!doc) throw new HttpError(404, MESSAGES.notFound);
    const actions = this.actionsIn(name).map((a) => ({ name: a.name, version: a.version, annotations: a.annotations }));
    return { ...doc, actions };
  }

  /**
   * Packages, newest update first.
   * @param window - limit and skip
   * @returns one page
   */
  listPackages(window: ListWindow): PackageDoc[] {
    return page([...this.packages.values()], window);
  }

  /**
   * Delete an empty package.
   * @param name - package name
   * @returns the deleted package
   * @throws HttpError 404 when absent, 409 when it still holds actions
   */
  deletePackage(name: string): PackageDoc {
    const doc = this.getPackage(name);
    const count = doc.actions?.length ?? 0;
    if (count > 0) throw new HttpError(409, MESSAGES.packageNotEmpty(count));
    this.packages.delete(name);
    return doc;
  }

  /**
   * Create or update an action.
   * @param path - where it lives
   * @param body - the PUT body (`exec`, `limits`, `parameters`, `annotations`)
   * @param overwrite - `?overwrite=true`
   * @returns the stored action, code included
   * @throws HttpError 409 (exists), 404 (package absent), 413 (code too large), 400 (bad body)
   */
  putAction(path: ActionPath, body: Record<string, unknown>, overwrite: boolean): ActionDoc {
    checkName(path.name);
    if (path.pkg !== undefined && !this.packages.has(path.pkg)) throw new HttpError(404, MESSAGES.notFound);
    const key = pathKey(path);
    const old = this.actions.get(key);
    if (old && !overwrite) throw new HttpError(409, MESSAGES.exists);
    const exec = body["exec"] === undefined && old ? old.exec : this.parseExec(body["exec"]);
    const annotations = keyValues(body["annotations"], "annotations") ?? old?.annotations ?? [];
    const doc: ActionDoc = {
      namespace: path.pkg === undefined ? this.namespace : `${this.namespace}/${path.pkg}`,
      name: path.name,
      version: old ? bumpVersion(old.version) : "0.0.1",
      exec,
      annotations: [...annotations.filter((a) => a.key !== "exec"), { key: "exec", value: exec.kind.split(":")[0] }],
      parameters: keyValues(body["parameters"], "parameters") ?? old?.parameters ?? [],
      limits: actionLimits(body["limits"], old?.limits, this.bounds),
      publish: typeof body["publish"] === "boolean" ? body["publish"] : (old?.publish ?? false),
      updated: Date.now(),
    };
    this.actions.set(key, doc);
    return doc;
  }

  /**
   * One action.
   * @param path - where it lives
   * @param withCode - include `exec.code` (`?code=false` turns it off)
   * @returns the action
   * @throws HttpError 404 when absent
   */
  getAction(path: ActionPath, withCode: boolean): ActionDoc {
    const doc = this.actions.get(pathKey(path));
    if (!doc) throw new HttpError(404, MESSAGES.notFound);
    return withCode ? doc : withoutCode(doc);
  }

  /**
   * Actions without their code, newest update first: all of the namespace's (packaged ones
   * included, as OpenWhisk lists them) or one package's.
   * @param pkg - a package, or undefined for all
   * @param window - limit and skip
   * @returns one page
   * @throws HttpError 404 for an absent package
   */
  listActions(pkg: string | undefined, window: ListWindow): ActionDoc[] {
    if (pkg !== undefined && !this.packages.has(pkg)) throw new HttpError(404, MESSAGES.notFound);
    const all = pkg === undefined ? [...this.actions.values()] : this.actionsIn(pkg);
    return page(all, window).map(withoutCode);
  }

  /**
   * Delete an action (its warm containers stay until reaped, as in OpenWhisk).
   * @param path - where it lives
   * @returns the deleted action without code
   * @throws HttpError 404 when absent
   */
  deleteAction(path: ActionPath): ActionDoc {
    const doc = this.getAction(path, false);
    this.actions.delete(pathKey(path));
    return doc;
  }

  /**
   * Resolve an action for an invoke.
   * @param path - where it lives
   * @returns the action and its default parameters
   * @throws HttpError 404 when absent
   */
  resolve(path: ActionPath): ResolvedAction {
    const doc = this.getAction(path, true);
    const pkgParams = path.pkg === undefined ? [] : (this.packages.get(path.pkg)?.parameters ?? []);
    const runParameters: Record<string, unknown> = {};
    const initEnv: Record<string, unknown> = {};
    for (const p of [...pkgParams, ...doc.parameters]) {
      if (p.init === true) initEnv[p.key] = p.value;
      else runParameters[p.key] = p.value;
    }
    const key = pathKey(path);
    return { doc, path: key, runParameters, initEnv, containerKey: `${key}@${doc.version}` };
  }

  private actionsIn(pkg: string): ActionDoc[] {
    const prefix = `${pkg}/`;
    return [...this.actions.entries()].filter(([key]) => key.startsWith(prefix)).map(([, doc]) => doc);
  }

  private parseExec(input: unknown): ActionDoc["exec"] {
    if (!isObject(input)) throw new HttpError(400, "The request content was malformed:\nexec is required.");
    const kind = input["kind"] === "nodejs:default" ? "nodejs:20" : input["kind"];
    if (typeof kind !== "string" || !/^nodejs:\d+$/.test(kind)) {
      throw new HttpError(400, `The request content was malformed:\nkind '${String(kind)}' is not supported by this emulator (nodejs only).`);
    }
    const code = input["code"];
    if (typeof code !== "string") throw new HttpError(400, "The request content was malformed:\nexec.code must be a string.");
    if (code.length > this.maxCodeBytes) throw new HttpError(413, MESSAGES.tooBig("Code", code.length, this.maxCodeBytes));
    const binary = typeof input["binary"] === "boolean" ? input["binary"] : code.startsWith(ZIP_BASE64_PREFIX);
    const main = typeof input["main"] === "string" ? input["main"] : undefined;
    return main === undefined ? { kind, code, binary } : { kind, code, binary, main };
  }
}

/**
 * The next patch version (`0.0.1` → `0.0.2`).
 * @param version - a `major.minor.patch` version
 * @returns the bumped version
 */
export function bumpVersion(version: string): string {
  const [major = "0", minor = "0", patch = "0"] = version.split(".");
  return `${major}.${minor}.${Number(patch) + 1}`;
}

function pathKey(path: ActionPath): string {
  return path.pkg === undefined ? path.name : `${path.pkg}/${path.name}`;
}

function withoutCode(doc: ActionDoc): ActionDoc {
  const { kind, binary, main } = doc.exec;
  return { ...doc, exec: main === undefined ? { kind, binary } : { kind, binary, main } };
}

function page<T extends { updated: number }>(items: T[], window: ListWindow): T[] {
  return items.sort((a, b) => b.updated - a.updated).slice(window.skip, window.skip + window.limit);
}

function keyValues(input: unknown, field: string): KeyValue[] | undefined {
  if (input === undefined) return undefined;
  if (!Array.isArray(input)) throw new HttpError(400, `The request content was malformed:\n${field} must be an array.`);
  return input.map((item: unknown) => {
    if (!isObject(item) || typeof item["key"] !== "string") {
      throw new HttpError(400, `The request content was malformed:\n${field} entries must be {key, value}.`);
    }
    return item["init"] === true
      ? { key: item["key"], value: item["value"], init: true }
      : { key: item["key"], value: item["value"] };
  });
}
