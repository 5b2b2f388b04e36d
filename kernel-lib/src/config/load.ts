/** Loading the configuration from all its sources. */
import { homedir } from "node:os";
import { CONFIG_TEXT_VAR, envLayer, fileLayer, findConfigFile, objectLayer } from "./sources.js";
import type { ConfigLayer } from "./sources.js";
import type { ConfigSources, TswrenConfig } from "./types.js";
import { validateConfig } from "./validate.js";

/**
 * Load, merge and validate the configuration. Sources, lowest precedence first: the YAML file
 * (`$TSWREN_CONFIG_FILE`, else `./.tswren_config`, else `~/.tswren/config`), the YAML or JSON in
 * `$TSWREN_CONFIG`, the executor's `config` object, then `overrides` from executor options, then
 * `backendOptions`, applied to the section of the backend selected after all of them merged.
 * Sections merge key by key. No configuration at all means localhost compute and storage.
 * @param sources - where to look; each field defaults to the real process
 * @returns the validated configuration; secrets included, so print it with {@link redactConfig}
 * @throws TswrenError `TSWREN_CONFIG_FILE` when the file is missing, unreadable or not valid YAML,
 *   `TSWREN_CONFIG_UNKNOWN_KEY` for an unknown section or key (with a suggestion),
 *   `TSWREN_CONFIG_BAD_VALUE` for a bad value or a key the selected backend needs
 * @example
 * const cfg = loadConfig({ config: { tswren: { backend: "localhost" } }, overrides: { localhost: { worker_processes: 4 } } });
 * cfg.localhost.worker_processes; // 4
 */
export function loadConfig(sources: ConfigSources = {}): TswrenConfig {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const home = sources.home ?? homedir();
  const layers: ConfigLayer[] = [];
  const file = findConfigFile(env, cwd, home);
  if (file !== undefined) layers.push(fileLayer(file));
  const text = env[CONFIG_TEXT_VAR];
  if (text !== undefined && text.trim() !== "") layers.push(envLayer(text));
  if (sources.config !== undefined) layers.push(objectLayer("executor config object", sources.config));
  if (sources.overrides !== undefined) layers.push(objectLayer("executor options", sources.overrides));
  return validateConfig(layers, { home, cwd }, sources.backendOptions);
}
