/** Configuration: schema, loading, validation and redaction. */
export { CONFIG_SCHEMA, SECTION_NAMES } from "./schema.js";
export type { ConfigValue, KeySpec, KeyType, SectionName, SectionSpec } from "./schema.js";
export type { ConfigSection, ConfigSources, TswrenConfig } from "./types.js";
export { loadConfig } from "./load.js";
export { redactConfig } from "./redact.js";
