/** Configuration: schema, loading, validation and redaction. */
export { CONFIG_SCHEMA, SECTION_NAMES } from "./schema.js";
export type { ConfigValue, KeySpec, KeyType, SectionName, SectionSpec } from "./schema.js";
export type { BackendOptions, ConfigSection, ConfigSources, TswrenConfig } from "./types.js";
export { loadConfig } from "./load.js";
export { redactConfig } from "./redact.js";
export { validateSection } from "./validate.js";
export { computeSection, computeSectionName, storageSection, storageSectionName } from "./sections.js";
export type { ComputeConfig, ComputeName, StorageConfig, StorageName } from "./sections.js";
