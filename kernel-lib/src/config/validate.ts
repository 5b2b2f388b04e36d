/**
 * The one validation function: checks every source against {@link CONFIG_SCHEMA}, merges them,
 * applies defaults and checks the keys the selected backend, storage and monitoring require.
 */
import { homedir } from "node:os";
import * as path from "node:path";
import { ErrorCodes, TswrenError } from "../errors.js";
import { checkValue, describeValue } from "./check-value.js";
import type { ValueProblem } from "./check-value.js";
import { CONFIG_SCHEMA, SECTION_NAMES, keySpec, sectionSpec } from "./schema.js";
import type { KeySpec, SectionName, SectionSpec } from "./schema.js";
import { expandHome } from "./sources.js";
import type { ConfigLayer } from "./sources.js";
import { backendOptionKeys, computeSectionName } from "./sections.js";
import type { ComputeName } from "./sections.js";
import { protectConfig, protectSection } from "./redact.js";
import { closestName } from "./suggest.js";
import type { BackendOptions, ConfigSection, TswrenConfig } from "./types.js";

/** Directories that `~` and relative paths resolve against. */
export interface PathContext {
  readonly home: string;
  readonly cwd: string;
}

type Section = Record<string, unknown>;
type Sections = Record<string, Section>;

/**
 * Validate and merge configuration sources into a {@link TswrenConfig}.
 * @param layers - the sources, lowest precedence first
 * @param context - directories for `~` and relative paths
 * @param backendOptions - executor options for the selected compute backend, applied last
 * @returns the configuration with defaults applied; sections not in use are left out
 * @throws TswrenError `TSWREN_CONFIG_UNKNOWN_KEY` for an unknown section or key,
 *   `TSWREN_CONFIG_BAD_VALUE` for a bad value or a missing required key
 */
export function validateConfig(layers: readonly ConfigLayer[], context: PathContext, backendOptions: BackendOptions = {}): TswrenConfig {
  const merged: Sections = {};
  const mergeLayer = (layer: ConfigLayer): void => {
    for (const [name, section] of Object.entries(checkLayer(layer))) {
      merged[name] = { ...merged[name], ...section };
    }
  };
  layers.forEach(mergeLayer);
  const tswren = withDefaults(CONFIG_SCHEMA.tswren, merged["tswren"] ?? {}, context);
  const backend = tswren["backend"] as ComputeName;
  const optionKeys = backendOptionKeys(backend, backendOptions);
  if (Object.keys(optionKeys).length > 0) mergeLayer({ source: "executor options", data: { [computeSectionName(backend)]: optionKeys } });
  const result: Sections = { tswren };
  const missing: string[] = [];
  for (const name of SECTION_NAMES) {
    const spec: SectionSpec = CONFIG_SCHEMA[name];
    if (name === "tswren" || !inUse(spec, tswren)) continue;
    const given = merged[name] ?? {};
    const absent = missingKeys(name, spec, given);
    if (absent.length > 0) missing.push(missingSentence(name, spec, absent));
    result[name] = withDefaults(spec, given, context);
  }
  if (missing.length > 0) {
    const read = layers.length === 0 ? "none" : layers.map((l) => l.source).join("; ");
    throw new TswrenError(ErrorCodes.CONFIG_BAD_VALUE, `${missing.join(" ")} (sources read: ${read})`);
  }
  // Every section and key was checked against the schema the type is derived from.
  return protectConfig(result) as unknown as TswrenConfig;
}

/**
 * Validate one section on its own (keys, values, required keys) and apply its defaults: for a
 * section that crossed a process boundary or was written by hand (tests, embedding).
 * @param name - the section
 * @param raw - its keys, snake_case as in the config file
 * @param source - what the keys came from, named in messages (e.g. `the job payload`)
 * @returns the typed section, as {@link loadConfig} would hold it
 * @throws TswrenError `TSWREN_CONFIG_UNKNOWN_KEY` for an unknown key,
 *   `TSWREN_CONFIG_BAD_VALUE` for a bad value or a missing required key
 * @example
 * const knative = validateSection("knative", { url: "http://127.0.0.1:8080" }, "test");
 * knative.max_workers; // 100
 */
export function validateSection<S extends SectionName>(name: S, raw: Readonly<Record<string, unknown>>, source: string, context?: PathContext): ConfigSection<S> {
  const spec: SectionSpec = CONFIG_SCHEMA[name];
  const given = checkLayer({ source, data: { [name]: raw } })[name] ?? {};
  const absent = missingKeys(name, spec, given);
  if (absent.length > 0) throw new TswrenError(ErrorCodes.CONFIG_BAD_VALUE, `${missingSentence(name, spec, absent)} (source: ${source})`);
  // Every key was checked against the schema the type is derived from.
  return protectSection(name, withDefaults(spec, given, context ?? { home: homedir(), cwd: process.cwd() })) as ConfigSection<S>;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `source, line N` for a key path, as messages start. */
function where(layer: ConfigLayer, keyPath: readonly string[]): string {
  const line = layer.lineOf?.(keyPath);
  return line === undefined ? layer.source : `${layer.source}, line ${line}`;
}

/** Check one source's sections and keys; drop `null` and `undefined` values (not set). */
function checkLayer(layer: ConfigLayer): Sections {
  if (!isMapping(layer.data)) {
    throw new TswrenError(
      ErrorCodes.CONFIG_BAD_VALUE,
      `${layer.source} must be a mapping of sections such as \`tswren:\` and \`localhost:\``,
    );
  }
  const out: Sections = {};
  for (const [name, body] of Object.entries(layer.data)) {
    const spec = sectionSpec(name);
    if (spec === undefined) throw unknownSection(layer, name);
    if (body === undefined || body === null) continue;
    if (!isMapping(body)) {
      // The value is not shown: it could be a secret written in the wrong place.
      throw new TswrenError(
        ErrorCodes.CONFIG_BAD_VALUE,
        `${where(layer, [name])}: section \`${name}\` must be a mapping of keys such as \`${Object.keys(spec.keys)[0]}\``,
      );
    }
    out[name] = checkSection(layer, name, spec, body);
  }
  return out;
}

function checkSection(layer: ConfigLayer, name: string, spec: SectionSpec, body: Section): Section {
  const out: Section = {};
  for (const [key, value] of Object.entries(body)) {
    const ks = keySpec(spec, key);
    if (ks === undefined) throw unknownKey(layer, name, spec, key);
    if (value === undefined || value === null) continue;
    const problem = checkValue(ks, value);
    if (problem !== undefined) throw badValue(layer, [name, key], ks, value, problem);
    out[key] = value;
  }
  return out;
}

function badValue(
  layer: ConfigLayer,
  keyPath: readonly [string, string],
  spec: KeySpec,
  value: unknown,
  problem: ValueProblem,
): TswrenError {
  const hint = problem.hint === undefined ? "" : `; ${problem.hint}`;
  return new TswrenError(
    ErrorCodes.CONFIG_BAD_VALUE,
    `${where(layer, keyPath)}: \`${keyPath.join(".")}\` must be ${problem.expected}; ` +
      `got ${describeValue(spec, value)}${hint}`,
  );
}

/** The sections having a key with exactly this name. */
function sectionsWithKey(key: string): string[] {
  return SECTION_NAMES.filter((s) => keySpec(CONFIG_SCHEMA[s], key) !== undefined);
}

function unknownSection(layer: ConfigLayer, name: string): TswrenError {
  const near = name === "lithops" ? "tswren" : closestName(name, SECTION_NAMES);
  const owners = sectionsWithKey(name);
  const hint =
    near !== undefined
      ? `; did you mean \`${near}\`?`
      : owners.length > 0
        ? `; \`${name}\` is a key: put it under \`${owners.join("` or `")}:\``
        : "";
  return new TswrenError(
    ErrorCodes.CONFIG_UNKNOWN_KEY,
    `${where(layer, [name])}: unknown section \`${name}\`${hint} (sections: ${SECTION_NAMES.join(", ")})`,
  );
}

function unknownKey(layer: ConfigLayer, section: string, spec: SectionSpec, key: string): TswrenError {
  const keys = Object.keys(spec.keys);
  const near = closestName(key, keys);
  const owners = sectionsWithKey(key);
  const hint =
    near !== undefined
      ? `; did you mean \`${near}\`?`
      : owners.length > 0
        ? `; \`${key}\` belongs in section \`${owners.join("` or `")}\``
        : "";
  return new TswrenError(
    ErrorCodes.CONFIG_UNKNOWN_KEY,
    `${where(layer, [section, key])}: unknown key \`${section}.${key}\`${hint} (keys of \`${section}\`: ${keys.join(", ")})`,
  );
}

/** True when the section is always in use or `tswren` selects it. */
function inUse(spec: SectionSpec, tswren: Section): boolean {
  return spec.selectedBy === undefined || tswren[spec.selectedBy.key] === spec.selectedBy.value;
}

/** The required keys (and one-of groups) of a section in use that no source set. */
function missingKeys(name: string, spec: SectionSpec, given: Section): string[] {
  const absent = Object.entries(spec.keys)
    .filter(([key, ks]) => ks.required === true && given[key] === undefined)
    .map(([key, ks]) => `\`${name}.${key}\` (${ks.description.replace(/\.$/, "")})`);
  for (const group of spec.requireOneOf ?? []) {
    if (group.every((key) => given[key] === undefined)) {
      absent.push(`one of ${group.map((key) => `\`${name}.${key}\``).join(" or ")}`);
    }
  }
  return absent;
}

function missingSentence(name: string, spec: SectionSpec, absent: readonly string[]): string {
  const by = spec.selectedBy;
  const why = by === undefined ? `section \`${name}\`` : `\`tswren.${by.key}: ${by.value}\``;
  return (
    `${why} needs ${absent.join(", ")}: add ${absent.length > 1 ? "them" : "it"} under \`${name}:\` ` +
    "in the config file, TSWREN_CONFIG or the executor's config."
  );
}

/** A section with defaults filled in, paths expanded and lists copied, in schema key order. */
function withDefaults(spec: SectionSpec, given: Section, context: PathContext): Section {
  const out: Section = {};
  for (const [key, ks] of Object.entries(spec.keys)) {
    let value = given[key] ?? (typeof ks.default === "function" ? ks.default() : ks.default);
    if (value === undefined) continue;
    if (ks.type === "path" && typeof value === "string") {
      value = path.resolve(context.cwd, expandHome(value, context.home));
    }
    out[key] = Array.isArray(value) ? [...(value as unknown[])] : value;
  }
  return out;
}
