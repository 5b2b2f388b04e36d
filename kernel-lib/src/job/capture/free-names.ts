/**
 * Free-name analysis of one function's source text (what `fn.toString()` returns): parse it with
 * acorn and walk it with a small scope tracker, so that every identifier read or written that no
 * enclosing declaration inside the function binds is reported. Property keys, `.x` member names
 * and labels are not variables; `arguments` is bound in every non-arrow function.
 */
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import { ErrorCodes, TswrenError } from "../../errors.js";

/** The names a piece of code reads from outside itself. */
export interface FreeNames {
  /** Free identifiers, in order of first use (a free `exports` used only as `exports.X` is not listed). */
  names: string[];
  /** `X` of every `exports.X` (or `exports["X"]`) where `exports` is free: tslab's earlier-cell names. */
  exportsProps: string[];
  /** Specifiers of `require("...")` calls with a string literal where `require` is free. */
  requires: string[];
}

/** A parsed function or class source and what it needs from outside. */
export interface ParsedFunction extends FreeNames {
  /** `expression` when the source is a valid expression; `method` for object-literal method syntax. */
  form: "expression" | "method";
  /** True for a class. */
  isClass: boolean;
  /** Names used by a class's `extends` clause (defined before the class), or empty. */
  heritage: FreeNames;
}

class Scope {
  readonly names = new Set<string>();
  constructor(readonly parent: Scope | null) {}

  has(name: string): boolean {
    return this.names.has(name) || (this.parent?.has(name) ?? false);
  }
}

class Collector {
  readonly names = new Set<string>();
  readonly exportsProps = new Set<string>();
  readonly requires = new Set<string>();

  result(): FreeNames {
    return { names: [...this.names], exportsProps: [...this.exportsProps], requires: [...this.requires] };
  }
}

interface WalkState {
  scope: Scope;
  out: Collector;
}

/** acorn-walk's callback; its typings omit the optional visitor-name override it accepts. */
type Visit = (node: acorn.Node, state: WalkState, override?: string) => void;

const PARSE_OPTIONS: acorn.Options = { ecmaVersion: "latest", sourceType: "script" };

/**
 * Parse a function's or class's source and compute its free names.
 * @param source - the text of `fn.toString()`
 * @returns the form of the source and its free names
 * @throws TswrenError `TSWREN_CAPTURE_FAILED` when the text is not a function, method or class
 */
export function parseFunctionSource(source: string): ParsedFunction {
  const found = parseAsExpression(source) ?? parseAsMethod(source);
  if (found === null) {
    throw new TswrenError(
      ErrorCodes.CAPTURE_FAILED,
      `cannot parse the function's source as JavaScript: ${abbreviate(source)}`,
    );
  }
  const out = new Collector();
  walkNode(found.node, { scope: new Scope(null), out });
  const heritage = new Collector();
  const cls = found.node.type === "ClassExpression" ? found.node : null;
  if (cls?.superClass) walkNode(cls.superClass, { scope: new Scope(null), out: heritage });
  return { ...out.result(), form: found.form, isClass: cls !== null, heritage: heritage.result() };
}

/**
 * Free names of a whole script (used for tests and diagnostics).
 * @param source - script source
 * @returns the names the script reads from outside itself
 */
export function freeNamesOfScript(source: string): FreeNames {
  const program = acorn.parse(source, PARSE_OPTIONS);
  const out = new Collector();
  walkNode(program, { scope: new Scope(null), out });
  return out.result();
}

type FunctionNode = acorn.FunctionExpression | acorn.ArrowFunctionExpression | acorn.ClassExpression;

function tryParse(text: string): acorn.Program | null {
  try {
    return acorn.parse(text, PARSE_OPTIONS);
  } catch {
    return null;
  }
}

function soleExpression(program: acorn.Program | null): acorn.Expression | null {
  if (program === null || program.body.length !== 1) return null;
  const stmt = program.body[0];
  if (stmt?.type !== "ExpressionStatement") return null;
  const expr = stmt.expression;
  return expr.type === "Literal" ? null : expr;
}

function parseAsExpression(source: string): { node: FunctionNode; form: "expression" } | null {
  const expr = soleExpression(tryParse(`(${source}\n)`));
  if (expr === null) return null;
  const ok = expr.type === "FunctionExpression" || expr.type === "ArrowFunctionExpression" || expr.type === "ClassExpression";
  return ok ? { node: expr, form: "expression" } : null;
}

function parseAsMethod(source: string): { node: acorn.ObjectExpression; form: "method" } | null {
  const expr = soleExpression(tryParse(`({${source}\n})`));
  if (expr?.type !== "ObjectExpression" || expr.properties.length !== 1) return null;
  const prop = expr.properties[0];
  if (prop?.type !== "Property" || !(prop.method || prop.kind !== "init")) return null;
  return { node: expr, form: "method" };
}

function abbreviate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function walkNode(node: acorn.Node, state: WalkState): void {
  walk.recursive(node, state, visitors);
}

function reference(name: string, st: WalkState): void {
  if (!st.scope.has(name)) st.out.names.add(name);
}

function child(st: WalkState, names: Iterable<string>): WalkState {
  const scope = new Scope(st.scope);
  for (const n of names) scope.names.add(n);
  return { scope, out: st.out };
}

/** Names bound by a destructuring pattern. */
export function patternNames(pattern: acorn.Pattern, out: string[] = []): string[] {
  switch (pattern.type) {
    case "Identifier":
      out.push(pattern.name);
      break;
    case "ObjectPattern":
      for (const p of pattern.properties) patternNames(p.type === "Property" ? p.value : p.argument, out);
      break;
    case "ArrayPattern":
      for (const e of pattern.elements) if (e) patternNames(e, out);
      break;
    case "RestElement":
      patternNames(pattern.argument, out);
      break;
    case "AssignmentPattern":
      patternNames(pattern.left, out);
      break;
    case "MemberExpression":
      break;
  }
  return out;
}

function declarationNames(decl: acorn.VariableDeclaration): string[] {
  return decl.declarations.flatMap((d) => patternNames(d.id));
}

/** Let/const/class/function names declared directly in a statement list (block scoping). */
function lexicalNames(body: ReadonlyArray<acorn.Statement | acorn.ModuleDeclaration>): string[] {
  const out: string[] = [];
  for (const stmt of body) {
    if (stmt.type === "VariableDeclaration" && stmt.kind !== "var") out.push(...declarationNames(stmt));
    else if ((stmt.type === "ClassDeclaration" || stmt.type === "FunctionDeclaration") && stmt.id) out.push(stmt.id.name);
  }
  return out;
}

/** `var` names (and, as in sloppy-mode Annex B, nested function declarations) hoisted to a function. */
function hoistedNames(node: acorn.Node | null | undefined, out: string[] = []): string[] {
  const n = node as acorn.AnyNode | null | undefined;
  if (!n) return out;
  if (n.type === "VariableDeclaration") {
    if (n.kind === "var") out.push(...declarationNames(n));
  } else if (n.type === "FunctionDeclaration") {
    if (n.id) out.push(n.id.name);
  } else {
    for (const c of hoistingChildren(n)) hoistedNames(c, out);
  }
  return out;
}

/** The nested statements of a statement that share its function's `var` scope. */
function hoistingChildren(n: acorn.AnyNode): Array<acorn.Node | null | undefined> {
  if (n.type === "BlockStatement") return n.body;
  if (n.type === "IfStatement") return [n.consequent, n.alternate];
  if (n.type === "ForStatement") return [n.init, n.body];
  if (n.type === "ForInStatement" || n.type === "ForOfStatement") return [n.left, n.body];
  if (n.type === "WhileStatement" || n.type === "DoWhileStatement" || n.type === "LabeledStatement" || n.type === "WithStatement") {
    return [n.body];
  }
  if (n.type === "TryStatement") return [n.block, n.handler?.body, n.finalizer];
  if (n.type === "SwitchStatement") return n.cases.flatMap((c) => c.consequent);
  return [];
}

function functionScope(node: acorn.Function, st: WalkState): WalkState {
  const names: string[] = node.params.flatMap((p) => patternNames(p));
  if (node.type !== "ArrowFunctionExpression") names.push("arguments");
  if (node.type === "FunctionExpression" && node.id) names.push(node.id.name);
  if (node.body.type === "BlockStatement") {
    names.push(...lexicalNames(node.body.body));
    for (const s of node.body.body) hoistedNames(s, names);
  }
  return child(st, names);
}

function visitFunction(node: acorn.Function, st: WalkState, cb: walk.WalkerCallback<WalkState>): void {
  const c = cb as Visit;
  const inner = functionScope(node, st);
  for (const p of node.params) c(p, inner, "Pattern");
  if (node.body.type === "BlockStatement") for (const s of node.body.body) c(s, inner, "Statement");
  else c(node.body, inner, "Expression");
}

/** A statement list that is its own `var` scope (a script, a class static block). */
function visitVarScope(body: ReadonlyArray<acorn.Statement | acorn.ModuleDeclaration>, st: WalkState, c: Visit): void {
  const names = lexicalNames(body);
  for (const s of body) hoistedNames(s, names);
  const inner = child(st, names);
  for (const s of body) c(s, inner, "Statement");
}

function loopHeadScope(head: acorn.Node | null | undefined, st: WalkState): WalkState {
  const decl = head as acorn.AnyNode | null | undefined;
  if (decl?.type === "VariableDeclaration" && decl.kind !== "var") return child(st, declarationNames(decl));
  return st;
}

function exportsProperty(node: acorn.MemberExpression, st: WalkState): string | null {
  if (node.object.type !== "Identifier" || node.object.name !== "exports" || st.scope.has("exports")) return null;
  if (!node.computed && node.property.type === "Identifier") return node.property.name;
  if (node.computed && node.property.type === "Literal" && typeof node.property.value === "string") return node.property.value;
  return null;
}

function requireSpecifier(node: acorn.CallExpression, st: WalkState): string | null {
  const [arg] = node.arguments;
  if (node.callee.type !== "Identifier" || node.callee.name !== "require" || st.scope.has("require")) return null;
  return arg?.type === "Literal" && typeof arg.value === "string" ? arg.value : null;
}

const visitors: walk.RecursiveVisitors<WalkState> = {
  Function: visitFunction,
  Identifier(node, st) {
    reference(node.name, st);
  },
  Pattern(node, st, cb) {
    const c = cb as Visit;
    if (node.type === "Identifier") reference(node.name, st);
    else c(node, st);
  },
  BlockStatement(node, st, cb) {
    const c = cb as Visit;
    const inner = child(st, lexicalNames(node.body));
    for (const s of node.body) c(s, inner, "Statement");
  },
  StaticBlock(node, st, cb) {
    visitVarScope(node.body, st, cb as Visit);
  },
  Program(node, st, cb) {
    visitVarScope(node.body, st, cb as Visit);
  },
  ForStatement(node, st, c) {
    walk.base.ForStatement?.(node, loopHeadScope(node.init, st), c);
  },
  ForInStatement(node, st, c) {
    walk.base.ForInStatement?.(node, loopHeadScope(node.left, st), c);
  },
  ForOfStatement(node, st, c) {
    walk.base.ForOfStatement?.(node, loopHeadScope(node.left, st), c);
  },
  SwitchStatement(node, st, cb) {
    const c = cb as Visit;
    c(node.discriminant, st, "Expression");
    const inner = child(st, lexicalNames(node.cases.flatMap((k) => k.consequent)));
    for (const k of node.cases) c(k, inner);
  },
  CatchClause(node, st, cb) {
    const c = cb as Visit;
    const inner = child(st, node.param ? patternNames(node.param) : []);
    if (node.param) c(node.param, inner, "Pattern");
    c(node.body, inner, "Statement");
  },
  Class(node, st, cb) {
    const c = cb as Visit;
    const inner = child(st, node.id ? [node.id.name] : []);
    if (node.superClass) c(node.superClass, inner, "Expression");
    c(node.body, inner);
  },
  MemberExpression(node, st, c) {
    const prop = exportsProperty(node, st);
    if (prop !== null) st.out.exportsProps.add(prop);
    else walk.base.MemberExpression?.(node, st, c);
  },
  CallExpression(node, st, c) {
    const spec = requireSpecifier(node, st);
    if (spec !== null) st.out.requires.add(spec);
    walk.base.CallExpression?.(node, st, c);
  },
};
