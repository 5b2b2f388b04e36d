/**
 * Generation of the bundle's factory source from a capture graph: one arrow function that takes
 * the loader's runtime helpers, defines every captured binding under the name the captured code
 * uses, and returns the user function. Values and modules come first, then functions (whose
 * bodies only run later, so mutual recursion works), then classes with `extends` bases first.
 */
import type { CaptureGraph, Entity } from "./resolve.js";

/** The factory parameter name; the generated source reads helpers from it. */
export const RUNTIME_PARAM = "__tswren_rt__";

/** Indexes of value entities into the bundle's `values` array, in entity order. */
export function valueSlots(graph: CaptureGraph): Map<number, number> {
  const slots = new Map<number, number>();
  graph.entities.forEach((e, id) => {
    if (e.kind === "value") slots.set(id, slots.size);
  });
  return slots;
}

function bindingNames(graph: CaptureGraph): Map<number, string[]> {
  const names = new Map<number, string[]>();
  for (const [name, id] of graph.plain) names.set(id, [...(names.get(id) ?? []), name]);
  return names;
}

function definition(entity: Entity, valueSlot: number | undefined, canonical: (id: number) => string): string {
  switch (entity.kind) {
    case "code":
      return entity.parsed.form === "method" ? `${RUNTIME_PARAM}.method({${entity.source}\n})` : `(${entity.source}\n)`;
    case "value": {
      const value = `${RUNTIME_PARAM}.value(${valueSlot ?? -1})`;
      return entity.proto === null ? value : `${RUNTIME_PARAM}.instance(${value}, ${canonical(entity.proto)})`;
    }
    case "global":
      return entity.path;
    case "module":
      return `${RUNTIME_PARAM}.module(${entity.module}, ${JSON.stringify(entity.access)})`;
    case "member":
      return `${RUNTIME_PARAM}.module(${entity.module}, "raw")[${JSON.stringify(entity.member)}]`;
    case "keepName":
      return `${RUNTIME_PARAM}.keepName`;
  }
}

/**
 * Entity ids in definition order: data, then functions, then classes (bases first), then class
 * instances (whose prototypes need their class).
 */
function definitionOrder(graph: CaptureGraph): number[] {
  const ids = graph.entities.map((_, id) => id);
  const isCode = (id: number): boolean => graph.entities[id]?.kind === "code";
  const isInstance = (id: number): boolean => {
    const e = graph.entities[id];
    return e?.kind === "value" && e.proto !== null;
  };
  const isClass = (id: number): boolean => {
    const e = graph.entities[id];
    return e?.kind === "code" && e.parsed.isClass;
  };
  const classes: number[] = [];
  const seen = new Set<number>();
  const visit = (id: number): void => {
    const e = graph.entities[id];
    if (seen.has(id) || e?.kind !== "code") return;
    seen.add(id);
    for (const dep of e.heritageDeps) if (isClass(dep)) visit(dep);
    classes.push(id);
  };
  ids.filter(isClass).forEach(visit);
  const data = ids.filter((id) => !isCode(id) && !isInstance(id));
  return [...data, ...ids.filter((id) => isCode(id) && !isClass(id)), ...classes, ...ids.filter(isInstance)];
}

/**
 * Generate the factory source.
 * @param graph - the resolved capture graph
 * @returns JavaScript text evaluating to `(runtime) => userFunction`
 */
export function emitFactorySource(graph: CaptureGraph): string {
  const slots = valueSlots(graph);
  const names = bindingNames(graph);
  const canonical = (id: number): string => names.get(id)?.[0] ?? `__tswren_${id}`;
  const lines = [`((${RUNTIME_PARAM}) => {`, `const require = ${RUNTIME_PARAM}.require;`];
  if (graph.exportsProps.size > 0) {
    const getters = [...graph.exportsProps].map(([name, id]) => `${JSON.stringify(name)}: () => ${canonical(id)}`);
    lines.push(`const exports = ${RUNTIME_PARAM}.lazy({ ${getters.join(", ")} });`);
  }
  for (const id of definitionOrder(graph)) {
    const entity = graph.entities[id];
    if (entity === undefined) continue;
    const [first, ...aliases] = names.get(id) ?? [canonical(id)];
    lines.push(`const ${first ?? canonical(id)} = ${definition(entity, slots.get(id), canonical)};`);
    for (const alias of aliases) lines.push(`const ${alias} = ${first ?? canonical(id)};`);
  }
  lines.push(`return ${canonical(graph.root)};`, `})`);
  return lines.join("\n");
}
