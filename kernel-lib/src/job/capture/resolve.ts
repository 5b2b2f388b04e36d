/**
 * Resolution of a function's free names into a capture graph: every function, class, value and
 * module the user function reaches, found by following free names from the function's source.
 *
 * A free name is looked up, in order, in: `require` (the loader provides it), the explicit
 * `capture` option, tslab's `__tslab__.exports` (names of the notebook's cells, which shadow
 * globals in the cell's own code too), the globals every worker has (left alone), other own
 * properties of `globalThis`; then a function's own name refers to itself, and compiler-made
 * import names (TypeScript's `yaml_1`, esbuild's `import_yaml`) and esbuild's `__name` helper
 * are recognised. `exports.X` reads (tslab's compiled references to earlier cells) look up `X`
 * in `__tslab__.exports`, then in `capture`. Anything else is an unresolved name, reported for
 * the whole graph at once before any bundling or upload.
 *
 * Values are then classified by identity: a loaded npm package or Node built-in (or one of its
 * exported functions) becomes a module reference, a built-in global (`Math.sqrt`) a reference
 * to it, a function or class its source, anything else serialized data (an instance of a
 * capturable class also carries its class, so it gets its prototype back).
 */
import { ErrorCodes, TswrenError } from "../../errors.js";
import { serializeValue } from "../../serialize.js";
import { parseFunctionSource, type ParsedFunction } from "./free-names.js";
import { builtinGlobalPath, isBuiltinGlobal } from "./globals.js";
import { importAliasCandidates, type ModuleIndex, type ModuleTarget, sharedModuleIndex } from "./modules.js";
import { closureValue } from "./inspect-fn.js";

/** One node of the capture graph. */
export type Entity =
  | { kind: "code"; name: string; ownName: string; source: string; parsed: ParsedFunction; heritageDeps: number[]; fn: Function }
  | { kind: "value"; name: string; bytes: Buffer | null; value: unknown; proto: number | null }
  | { kind: "global"; path: string }
  | { kind: "module"; module: number; access: "raw" | "star" }
  | { kind: "member"; module: number; member: string }
  | { kind: "keepName" };

/** Everything a captured function needs, with each free name bound to one entity. */
export interface CaptureGraph {
  entities: Entity[];
  /** Entity id of the user function. */
  root: number;
  /** Free plain name → entity id (names left to the worker's globals are absent). */
  plain: Map<string, number>;
  /** `exports.X` name → entity id. */
  exportsProps: Map<string, number>;
  /** Modules referenced by module entities and by `require("...")` calls. */
  modules: ModuleTarget[];
}

/** Options of {@link buildCaptureGraph}. */
export interface ResolveOptions {
  capture: Record<string, unknown>;
  cwd: string;
  /** How messages name the user function, e.g. `map function`. */
  what: string;
}

interface Unresolved {
  name: string;
  usedBy: number;
}

const LEAVE = -1;
const KEEP_NAME_KEY = Symbol("tswren.keepName");

function hasOwn(target: object | undefined, name: string): target is object {
  return target !== undefined && Object.prototype.hasOwnProperty.call(target, name);
}

function tslabExports(): Record<string, unknown> | undefined {
  const tslab = (globalThis as { __tslab__?: { exports?: Record<string, unknown> } }).__tslab__;
  return tslab?.exports;
}

function isNative(fn: Function): boolean {
  return /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

/** The constructor of an object made by a user-defined (or package) class, whose prototype the loader restores. */
function userClassOf(value: unknown): Function | null {
  if (typeof value !== "object" || value === null) return null;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null || proto === Object.prototype || typeof proto !== "object") return null;
  const ctor: unknown = Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
  if (typeof ctor !== "function" || isNative(ctor) || (ctor as { prototype?: unknown }).prototype !== proto) return null;
  return ctor;
}

class GraphBuilder {
  readonly entities: Entity[] = [];
  readonly plain = new Map<string, number>();
  readonly exportsProps = new Map<string, number>();
  readonly modules: ModuleTarget[] = [];
  private readonly byValue = new Map<unknown, number>();
  private readonly moduleIds = new Map<string, number>();
  private readonly queue: number[] = [];
  readonly unresolved: Unresolved[] = [];
  private readonly tslab = tslabExports();

  constructor(
    private readonly options: ResolveOptions,
    private index: ModuleIndex | null = null,
  ) {}

  private modulesIndex(): ModuleIndex {
    this.index ??= sharedModuleIndex(this.options.cwd);
    return this.index;
  }

  /** How messages name entity `id`. */
  label(id: number): string {
    if (id === 0) return `the ${this.options.what}`;
    const e = this.entities[id];
    return e?.kind === "code" || e?.kind === "value" ? `captured variable "${e.name}"` : `entity ${id}`;
  }

  add(entity: Entity, key: unknown): number {
    const id = this.entities.push(entity) - 1;
    this.byValue.set(key, id);
    if (entity.kind === "code") this.queue.push(id);
    return id;
  }

  moduleId(target: ModuleTarget): number {
    const key = `${target.file ?? "builtin"}|${target.specifier}`;
    let id = this.moduleIds.get(key);
    if (id === undefined) {
      id = this.modules.push(target) - 1;
      this.moduleIds.set(key, id);
    }
    return id;
  }

  /** The entity for a captured value, created on first sight. */
  entityFor(value: unknown, name: string): number {
    const known = this.byValue.get(value);
    if (known !== undefined) return known;
    const isObj = (typeof value === "object" && value !== null) || typeof value === "function";
    const match = isObj ? this.modulesIndex().match(value) : null;
    if (match !== null) {
      const module = this.moduleId(match.target);
      const entity: Entity = match.access === "member" ? { kind: "member", module, member: match.member } : { kind: "module", module, access: match.access };
      return this.add(entity, value);
    }
    const globalPath = isObj ? builtinGlobalPath(value) : null;
    if (globalPath !== null) return this.add({ kind: "global", path: globalPath }, value);
    if (typeof value === "function") return this.add(this.codeEntity(value, name), value);
    const id = this.add({ kind: "value", name, bytes: null, value, proto: null }, value);
    const ctor = userClassOf(value);
    const entity = this.entities[id];
    if (ctor !== null && entity?.kind === "value" && this.capturesCleanly(ctor)) entity.proto = this.entityFor(ctor, ctor.name);
    return id;
  }

  /**
   * Whether a captured object's class can be shipped too, so the object gets its prototype back.
   * Built-in classes never need it; a class whose own free names do not all resolve (a package's
   * internal class) is left out and its instances travel as plain data, as before.
   */
  private capturesCleanly(ctor: Function): boolean {
    if (this.byValue.has(ctor)) return true;
    if (builtinGlobalPath(ctor) !== null) return false;
    const trial = new GraphBuilder(this.options, this.modulesIndex());
    try {
      trial.entityFor(ctor, ctor.name);
      trial.drain();
      return trial.unresolved.length === 0;
    } catch {
      return false;
    }
  }

  private codeEntity(fn: Function, name: string): Entity {
    const where = this.entities.length === 0 ? `the ${this.options.what}` : `captured variable "${name}"`;
    if (isNative(fn)) {
      const bound = fn.name.startsWith("bound ");
      throw new TswrenError(
        ErrorCodes.CAPTURE_FAILED,
        bound
          ? `${where} is a bound function (made with .bind()); tswren cannot see what it is bound to. ` +
              `Use an arrow function instead, e.g. (x) => obj.method(x).`
          : `${where} is a built-in (native) function${fn.name ? ` (${fn.name})` : ""}, which has no source to ship. ` +
              `Wrap it in a function, e.g. (x) => ${fn.name || "f"}(x).`,
      );
    }
    const source = Function.prototype.toString.call(fn);
    try {
      return { kind: "code", name, ownName: fn.name, source, parsed: parseFunctionSource(source), heritageDeps: [], fn };
    } catch (cause) {
      if (cause instanceof TswrenError) throw new TswrenError(cause.code, `${where}: ${cause.message}`, { cause });
      throw cause;
    }
  }

  /** Resolve every free name of every code entity, breadth first. */
  drain(): void {
    for (let id = this.queue.shift(); id !== undefined; id = this.queue.shift()) {
      const entity = this.entities[id];
      if (entity?.kind !== "code") continue;
      for (const name of entity.parsed.names) this.bindPlain(name, id);
      for (const name of entity.parsed.exportsProps) this.bindExport(name, id);
      for (const spec of entity.parsed.requires) this.bindRequire(spec, id);
    }
  }

  private bindPlain(name: string, usedBy: number): void {
    if (this.plain.has(name)) return;
    const id = this.resolvePlain(name, usedBy);
    if (id === null) this.unresolved.push({ name, usedBy });
    else this.plain.set(name, id);
  }

  private resolvePlain(name: string, usedBy: number): number | null {
    const capture = this.options.capture;
    if (name === "require") return LEAVE;
    if (hasOwn(capture, name)) return this.entityFor(capture[name], name);
    if (hasOwn(this.tslab, name)) return this.entityFor(this.tslab[name], name);
    if (isBuiltinGlobal(name)) return LEAVE;
    if (hasOwn(globalThis, name) && name !== "__tslab__") return this.entityFor((globalThis as Record<string, unknown>)[name], name);
    const user = this.entities[usedBy];
    if (user?.kind === "code" && user.ownName === name) return usedBy;
    const alias = this.importAlias(name);
    if (alias !== null) return alias;
    // A variable of the function's closure (a factory's local, a script's module-level name).
    const held = user?.kind === "code" ? closureValue(user.fn, name) : null;
    if (held !== null) return this.entityFor(held.value, name);
    return name === "__name" ? this.add({ kind: "keepName" }, KEEP_NAME_KEY) : null;
  }

  /**
   * Imports used in the same tslab cell compile to `yaml_1.default` / `(0, yaml_1.parse)`, and
   * under tsx (esbuild, CommonJS) to `import_yaml.default`: find the module behind such a name.
   */
  private importAlias(name: string): number | null {
    for (const { base, derive } of importAliasCandidates(name)) {
      const target = this.modulesIndex().byImportAlias(base, derive);
      if (target !== null) return this.entities.push({ kind: "module", module: this.moduleId(target), access: "star" }) - 1;
    }
    return null;
  }

  private bindExport(name: string, usedBy: number): void {
    if (this.exportsProps.has(name)) return;
    const source = hasOwn(this.tslab, name) ? this.tslab : hasOwn(this.options.capture, name) ? this.options.capture : null;
    if (source === null) this.unresolved.push({ name: `exports.${name}`, usedBy });
    else this.exportsProps.set(name, this.entityFor(source[name], name));
  }

  private bindRequire(specifier: string, usedBy: number): void {
    const target = this.modulesIndex().resolveSpecifier(specifier, this.label(usedBy));
    if (target.file !== null) this.moduleId(target);
  }

  /** Throw one `TSWREN_UNRESOLVED_NAME` naming every unresolved name and the fix. */
  throwIfUnresolved(): void {
    if (this.unresolved.length === 0) return;
    throw new TswrenError(ErrorCodes.UNRESOLVED_NAME, unresolvedMessage(this.unresolved, (id) => this.label(id), this.options.what));
  }

  /** Serialize value entities and compute class definition order dependencies. */
  finish(): void {
    for (const entity of this.entities) {
      if (entity.kind === "value") entity.bytes = serializeValue(entity.value, `captured variable "${entity.name}"`);
      if (entity.kind === "code") entity.heritageDeps = this.heritageDeps(entity.parsed);
    }
  }

  private heritageDeps(parsed: ParsedFunction): number[] {
    const ids = [
      ...parsed.heritage.names.map((n) => this.plain.get(n)),
      ...parsed.heritage.exportsProps.map((n) => this.exportsProps.get(n)),
    ];
    return ids.filter((id): id is number => id !== undefined && id !== LEAVE);
  }
}

function unresolvedMessage(items: Unresolved[], label: (id: number) => string, what: string): string {
  const plural = items.length > 1;
  const parts = items.map((u) => (u.usedBy === 0 ? `"${u.name}"` : `"${u.name}" (in ${label(u.usedBy)})`));
  const names = items.map((u) => u.name.replace(/^exports\./, ""));
  const uses = parts.length === 1 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1) ?? ""}`;
  const hint = names.includes("exports") ? ` ("exports" is tslab's object of cell names; read names from it directly, e.g. exports.factor)` : "";
  return (
    `the ${what} uses ${uses}, which tswren cannot see (${plural ? "local variables" : "a local variable"} of an enclosing scope)${hint}. ` +
    `Pass ${plural ? "them" : "it"} explicitly: fx.map(fn, data, { capture: { ${[...new Set(names)].join(", ")} } }), ` +
    `or define ${plural ? "them" : "it"} at the top level of a notebook cell.`
  );
}

/**
 * Build the capture graph of a function: resolve its free names recursively.
 * @param fn - the user function (entity 0)
 * @param options - explicit captures, the folder packages resolve from, and how to name `fn`
 * @returns the graph, with captured values serialized
 * @throws TswrenError `TSWREN_UNRESOLVED_NAME` naming every name that cannot be resolved;
 *   `TSWREN_CAPTURE_FAILED` for native or bound functions; `TSWREN_NOT_SERIALIZABLE` for a
 *   captured value that cannot be serialized; `TSWREN_MODULE_BUNDLE` for a required package that
 *   cannot be found
 */
export function buildCaptureGraph(fn: Function, options: ResolveOptions): CaptureGraph {
  const builder = new GraphBuilder(options);
  const root = builder.entityFor(fn, fn.name);
  builder.drain();
  builder.throwIfUnresolved();
  builder.finish();
  const { entities, plain, exportsProps, modules } = builder;
  for (const [name, id] of plain) if (id === LEAVE) plain.delete(name);
  return { entities, root, plain, exportsProps, modules };
}
