/**
 * Checks, before anything is invoked, that a map's object items give the function the properties
 * its first parameter destructures (`({ x, y }) => ...`): a missing one is an argument error
 * naming it, as Lithops reports a missing keyword argument.
 */
import * as acorn from "acorn";
import { ErrorCodes, TswrenError } from "../errors.js";

/** What a function's first parameter requires of an object item. */
interface ObjectParam {
  /** Destructured property names without a default value. */
  required: string[];
  /** Every destructured property name. */
  names: string[];
}

function firstParamNode(source: string): acorn.Pattern | null {
  for (const text of [`(${source})`, `({${source}})`]) {
    try {
      const node = acorn.parseExpressionAt(text, 0, { ecmaVersion: "latest" });
      const fn = node.type === "ObjectExpression" ? (node.properties[0] as acorn.Property | undefined)?.value : node;
      if (fn?.type === "FunctionExpression" || fn?.type === "ArrowFunctionExpression") return fn.params[0] ?? null;
      return null;
    } catch {
      // try the next form (a method's source parses only inside an object literal)
    }
  }
  return null;
}

/** The object pattern of a function's first parameter, or null when it has none. */
export function objectParam(fn: Function): ObjectParam | null {
  let node = firstParamNode(Function.prototype.toString.call(fn));
  if (node?.type === "AssignmentPattern") node = node.left;
  if (node?.type !== "ObjectPattern") return null;
  const out: ObjectParam = { required: [], names: [] };
  for (const p of node.properties) {
    if (p.type === "RestElement") continue;
    if (p.computed || p.key.type !== "Identifier") return null;
    out.names.push(p.key.name);
    if (p.value.type !== "AssignmentPattern") out.required.push(p.key.name);
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Check every object item against the function's destructured first parameter.
 * @throws TswrenError `TSWREN_ARGUMENT_MISMATCH` naming the first missing parameter and item
 */
export function checkItemArguments(what: string, fn: Function, items: readonly unknown[]): void {
  const param = objectParam(fn);
  if (param === null || param.required.length === 0) return;
  items.forEach((item, i) => {
    if (!isPlainObject(item)) return;
    const missing = param.required.find((name) => !(name in item));
    if (missing === undefined) return;
    const extra = Object.keys(item).filter((k) => !param.names.includes(k));
    throw new TswrenError(
      ErrorCodes.ARGUMENT_MISMATCH,
      `${what}: input[${i}] has no \`${missing}\`, which the function's parameter { ${param.names.join(", ")} } needs` +
        `${extra.length > 0 ? ` (it has ${extra.map((k) => `\`${k}\``).join(", ")} instead)` : ""}; ` +
        `give every item a \`${missing}\` (or pass it with extraArgs), or give the parameter a default`,
    );
  });
}
