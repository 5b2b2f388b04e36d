/**
 * What `Function.prototype.toString` cannot show, read through V8's inspector in this process:
 * the target, `this` and arguments of a bound function, and the values of a closure's captured
 * variables (a function returned by a factory, a module-level `const` in a script). Used only
 * when a function is bound or a free name is not found elsewhere, so ordinary captures never
 * pay for it.
 */
import { Session } from "node:inspector";
import { ErrorCodes, TswrenError } from "../../errors.js";

interface RemoteObject {
  type: string;
  value?: unknown;
  unserializableValue?: string;
  objectId?: string;
}

interface PropertyDescriptor {
  name: string;
  value?: RemoteObject;
}

interface Properties {
  result: PropertyDescriptor[];
  internalProperties?: PropertyDescriptor[];
}

const SLOT = Symbol.for("tswren.inspectSlot");
const GROUP = "tswren-capture";
let session: Session | null = null;

function post(method: string, params: object): unknown {
  if (session === null) {
    session = new Session();
    session.connect();
  }
  const box: { answer?: { err: Error | null; res: unknown } } = {};
  // An in-process session answers synchronously.
  session.post(method, params, (err, res) => { box.answer = { err, res }; });
  const answer = box.answer;
  if (answer === undefined) throw new TswrenError(ErrorCodes.CAPTURE_FAILED, `inspector: ${method} did not answer synchronously`);
  if (answer.err !== null) throw answer.err;
  return answer.res;
}

function slot(): Record<symbol, unknown> {
  const holder: object = globalThis;
  return holder as Record<symbol, unknown>;
}

/** A remote object for a local value. */
function remoteOf(value: unknown): string {
  slot()[SLOT] = value;
  try {
    const { result } = post("Runtime.evaluate", { expression: `globalThis[Symbol.for("tswren.inspectSlot")]`, objectGroup: GROUP }) as { result: RemoteObject };
    if (result.objectId === undefined) throw new TswrenError(ErrorCodes.CAPTURE_FAILED, "inspector: no object id");
    return result.objectId;
  } finally {
    Reflect.deleteProperty(slot(), SLOT);
  }
}

/** The local value a remote object stands for. */
function localOf(remote: RemoteObject): unknown {
  if (remote.objectId === undefined) {
    if (remote.type === "undefined") return undefined;
    if (remote.unserializableValue !== undefined) {
      const u = remote.unserializableValue;
      return remote.type === "bigint" ? BigInt(u.slice(0, -1)) : Number(u);
    }
    return remote.value;
  }
  post("Runtime.callFunctionOn", { objectId: remote.objectId, functionDeclaration: `function () { globalThis[Symbol.for("tswren.inspectSlot")] = this; }` });
  const value = slot()[SLOT];
  Reflect.deleteProperty(slot(), SLOT);
  return value;
}

function properties(objectId: string): Properties {
  return post("Runtime.getProperties", { objectId, ownProperties: true }) as Properties;
}

function releaseAll(): void {
  post("Runtime.releaseObjectGroup", { objectGroup: GROUP });
}

/** The parts of a bound function, or null for any other function. */
export function boundParts(fn: Function): { target: Function; thisArg: unknown; args: unknown[] } | null {
  if (!fn.name.startsWith("bound ")) return null;
  try {
    const internal = properties(remoteOf(fn)).internalProperties ?? [];
    const get = (name: string): RemoteObject | undefined => internal.find((p) => p.name === name)?.value;
    const target = get("[[TargetFunction]]");
    if (target === undefined) return null;
    const thisRemote = get("[[BoundThis]]");
    const argsRemote = get("[[BoundArgs]]");
    return {
      target: localOf(target) as Function,
      thisArg: thisRemote === undefined ? undefined : localOf(thisRemote),
      args: argsRemote === undefined ? [] : (localOf(argsRemote) as unknown[]),
    };
  } finally {
    releaseAll();
  }
}

/**
 * The value of a variable a function's closure holds (innermost scope first; the global scope is
 * not searched).
 * @returns `{ value }`, or null when no closure scope of `fn` has `name`
 */
export function closureValue(fn: Function, name: string): { value: unknown } | null {
  try {
    const scopes = properties(remoteOf(fn)).internalProperties?.find((p) => p.name === "[[Scopes]]")?.value?.objectId;
    if (scopes === undefined) return null;
    for (const scope of properties(scopes).result) {
      const scopeId = scope.value?.objectId;
      if (scopeId === undefined) continue;
      const vars = properties(scopeId).result;
      // The global scope holds globals, which resolve elsewhere.
      if (vars.some((v) => v.name === "globalThis")) continue;
      const found = vars.find((v) => v.name === name);
      if (found?.value !== undefined) return { value: localOf(found.value) };
    }
    return null;
  } catch {
    return null;
  } finally {
    releaseAll();
  }
}
