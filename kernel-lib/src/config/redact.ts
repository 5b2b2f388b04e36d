/** A printable copy of a configuration with its secrets hidden. */
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
    if (section === undefined) continue;
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(section)) {
      copy[key] = isSecret(name, key) ? HIDDEN : Array.isArray(value) ? [...(value as unknown[])] : value;
    }
    out[name] = copy;
  }
  return out;
}
