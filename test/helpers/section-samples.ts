/**
 * Sample values for the keys a config section requires, derived from the schema, so tests can
 * select any compute or storage backend (including ones added later) without per-backend fixtures.
 */
import { CONFIG_SCHEMA } from "../../kernel-lib/src/config/schema.js";
import type { KeySpec, SectionName, SectionSpec } from "../../kernel-lib/src/config/schema.js";

function sample(spec: KeySpec): unknown {
  switch (spec.type) {
    case "url":
      return `${spec.protocols?.[0] ?? "http"}://127.0.0.1:9`;
    case "bool":
      return false;
    case "int":
    case "number":
      return spec.min ?? 1;
    case "enum":
      return spec.values?.[0];
    case "number_list":
      return [1];
    case "path":
      return "/tmp";
    case "string":
      return "sample";
  }
}

/**
 * A value for every required key of a section and for the first key of each one-of group.
 * @param name - the section
 */
export function requiredSample(name: SectionName): Record<string, unknown> {
  const spec: SectionSpec = CONFIG_SCHEMA[name];
  const out: Record<string, unknown> = {};
  for (const [key, ks] of Object.entries(spec.keys)) if (ks.required === true) out[key] = sample(ks);
  for (const group of spec.requireOneOf ?? []) {
    const first = group[0];
    const ks = first === undefined ? undefined : spec.keys[first];
    if (first !== undefined && ks !== undefined) out[first] = sample(ks);
  }
  return out;
}
