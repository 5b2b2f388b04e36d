/**
 * Checks, before anything is invoked, that a map's object items give the function the arguments
 * it declares, as Lithops checks dict items against a function's parameters:
 * - a destructured first parameter (`({ x, y }) => ...`) gets the item; each property it needs
 *   must be there;
 * - a function with two or more named parameters (`(x, y) => ...`, a last parameter named `ctx`
 *   or `context` excepted) gets object items as keyword arguments, by name, like Lithops passes
 *   a dict item as `**kwargs`: `fn(item.x, item.y, ctx)`; each parameter without a default must
 *   be a key of every item.
 * A missing one is `TSWREN_ARGUMENT_MISMATCH` naming it and the item.
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

function paramNodes(source: string): acorn.Pattern[] {
  for (const text of [`(${source})`, `({${source}})`]) {
    try {
      const node = acorn.parseExpressionAt(text, 0, { ecmaVersion: "latest" });
      const fn = node.type === "ObjectExpression" ? (node.properties[0] as acorn.Property | undefined)?.value : node;
      if (fn?.type === "FunctionExpression" || fn?.type === "ArrowFunctionExpression") return fn.params;
      return [];
    } catch {
      // try the next form (a method's source parses only inside an object literal)
    }
  }
  return [];
}

function firstParamNode(source: string): acorn.Pattern | null {
  return paramNodes(source)[0] ?? null;
}

/** A named parameter: `x` or `x = 1`. */
interface NamedParam {
  name: string;
  optional: boolean;
}

/** The leading named parameters of a function (up to the first destructured or rest one). */
export function namedParams(fn: Function): NamedParam[] {
  const out: NamedParam[] = [];
  for (const node of paramNodes(Function.prototype.toString.call(fn))) {
    if (node.type === "Identifier") out.push({ name: node.name, optional: false });
    else if (node.type === "AssignmentPattern" && node.left.type === "Identifier") out.push({ name: node.left.name, optional: true });
    else break;
  }
  return out;
}

const CONTEXT_NAMES = new Set(["ctx", "context", "_ctx", "_context"]);

/**
 * The parameters object items fill by name (Lithops' keyword arguments), or null when the
 * function takes the item whole (fewer than two named parameters besides the context).
 */
export function keywordParams(fn: Function, appendCount = 0): NamedParam[] | null {
  const params = namedParams(fn);
  const last = params.at(-1);
  const named = last !== undefined && CONTEXT_NAMES.has(last.name) ? params.slice(0, -1) : params;
  // Parameters that `extraArgs` given as an array fill come last, positionally.
  const keywords = named.slice(0, Math.max(0, named.length - appendCount));
  return keywords.length >= 2 ? keywords : null;
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
 * Check every object item against the function's parameters (see the module's doc).
 * @param appendCount - how many arguments `extraArgs` given as an array appends after the item
 * @returns the parameter names object items fill by name, in order, or null when the function
 *   takes each item whole
 * @throws TswrenError `TSWREN_ARGUMENT_MISMATCH` naming the first missing parameter and item
 */
export function checkItemArguments(what: string, fn: Function, items: readonly unknown[], appendCount = 0): string[] | null {
  const keywords = items.some(isPlainObject) ? keywordParams(fn, appendCount) : null;
  if (keywords !== null) {
    checkKeywordItems(what, keywords, items);
    return keywords.map((p) => p.name);
  }
  checkObjectParam(what, fn, items);
  return null;
}

function checkKeywordItems(what: string, keywords: NamedParam[], items: readonly unknown[]): void {
  const names = keywords.map((p) => p.name);
  items.forEach((item, i) => {
    const missing = isPlainObject(item) ? keywords.find((p) => !p.optional && !(p.name in item)) : keywords[0];
    if (missing === undefined) return;
    const has = isPlainObject(item) ? ` (it has ${Object.keys(item).map((k) => `\`${k}\``).join(", ") || "no keys"})` : ` (it is not an object)`;
    throw new TswrenError(
      ErrorCodes.ARGUMENT_MISMATCH,
      `${what}: input[${i}] has no \`${missing.name}\`${has}; the function's parameters (${names.join(", ")}) take object items by name, ` +
        `as Lithops passes dict items as keyword arguments. Give every item a \`${missing.name}\` (or pass it with extraArgs), give the parameter a default, ` +
        `or take the whole item in one parameter: (item, ctx) => ...`,
    );
  });
}

function checkObjectParam(what: string, fn: Function, items: readonly unknown[]): void {
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
