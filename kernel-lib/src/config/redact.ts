/**
 * Printable copies of a configuration with its secrets hidden, and the hooks that make the
 * loaded configuration print that way by itself: `util.inspect` (console.log, console.dir at any
 * depth, notebook displays) and `JSON.stringify` of a loaded config or of one of its sections show
 * `"<hidden>"` for every secret. The hooks are non-enumerable, so a spread copy (`{ ...section }`,
 * e.g. the storage settings a signed payload carries to the runtime) keeps the real values.
 */
import { inspect } from "node:util";
import { HIDDEN } from "./check-value.js";
import { keySpec, sectionSpec } from "./schema.js";
import type { TswrenConfig } from "./types.js";

/** True for secret keys, and for keys the schema does not know (hidden to be safe). */
function isSecret(section: string, key: string): boolean {
  const spec = sectionSpec(section);
  const ks = spec === undefined ? undefined : keySpec(spec, key);
  return ks === undefined || ks.secret === true;
}

/**
 * A copy of one section with its secret keys (and keys the schema does not know) hidden.
 * @param name - the section's name, e.g. `minio`
 * @param section - its keys
 * @returns plain data safe to print
 */
export function redactSection(name: string, section: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    copy[key] = isSecret(name, key) ? HIDDEN : Array.isArray(value) ? [...(value as unknown[])] : value;
  }
  return copy;
}

/**
 * A deep copy of the configuration for logs and notebook output, with every secret key that
 * is set (`api_key`, `secret_access_key`, `amqp_url`, ...) replaced by `"<hidden>"`.
 * @param cfg - a configuration from {@link loadConfig}
 * @returns plain data safe to print
 * @example
 * console.log(redactConfig(loadConfig()));
 */
export function redactConfig(cfg: TswrenConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, section] of Object.entries(cfg) as [string, Record<string, unknown> | undefined][]) {
    if (section !== undefined) out[name] = redactSection(name, section);
  }
  return out;
}

/** Define non-enumerable `util.inspect` and (optionally) `toJSON` hooks that show `printable()`. */
function hideBehind(target: object, printable: () => unknown, json: boolean): void {
  const hooks: PropertyDescriptorMap = {
    [inspect.custom]: { value: (_depth: number, options: object) => inspect(printable(), options), enumerable: false, configurable: true },
  };
  if (json) hooks["toJSON"] = { value: printable, enumerable: false, configurable: true };
  Object.defineProperties(target, hooks);
}

/**
 * Make a section print with its secrets hidden (`util.inspect` and `JSON.stringify`).
 * @param name - the section's name
 * @param section - the section object (changed in place: two non-enumerable hooks)
 * @returns `section`
 */
export function protectSection<T extends object>(name: string, section: T): T {
  hideBehind(section, () => redactSection(name, section as Readonly<Record<string, unknown>>), true);
  return section;
}

/**
 * Make a loaded configuration, and each of its sections, print with secrets hidden.
 * @param cfg - the configuration (changed in place: non-enumerable hooks)
 * @returns `cfg`
 */
export function protectConfig<T extends object>(cfg: T): T {
  for (const [name, section] of Object.entries(cfg) as [string, unknown][]) {
    if (typeof section === "object" && section !== null) protectSection(name, section);
  }
  hideBehind(cfg, () => redactConfig(cfg as unknown as TswrenConfig), true);
  return cfg;
}

/**
 * Make a copy of a section that must keep its real values in JSON (the storage settings of a
 * payload) print with its secrets hidden in `util.inspect` only.
 * @param name - the section's name
 * @param section - the copy (changed in place: one non-enumerable hook)
 * @returns `section`
 */
export function hideSecretsOnInspect<T extends object>(name: string, section: T): T {
  hideBehind(section, () => redactSection(name, section as Readonly<Record<string, unknown>>), false);
  return section;
}
