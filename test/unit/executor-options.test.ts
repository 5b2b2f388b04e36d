/**
 * Executor options (`timeout`, `workers`, `runtimeMemory`) apply to whichever compute backend is
 * selected once every config source merged: a config file selecting a backend gets them in its
 * own section, not in `localhost`. One case per registered compute backend.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { computeBackendNames } from "../../kernel-lib/src/compute/registry.js";
import { BACKEND_OPTION_KEYS, computeSection, computeSectionName } from "../../kernel-lib/src/config/sections.js";
import { loadConfig } from "../../kernel-lib/src/config/index.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { executorSources } from "../../kernel-lib/src/executor-options.js";
import type { SectionName } from "../../kernel-lib/src/config/schema.js";
import { requiredSample } from "../helpers/section-samples.js";

const root = mkdtempSync(path.join(tmpdir(), "tswren-executor-options-"));
afterAll(() => { rmSync(root, { recursive: true, force: true }); });

/** A config file selecting `backend`, with its section's required keys. */
function configFile(backend: string, section: SectionName): string {
  const file = path.join(root, `${backend}.yaml`);
  writeFileSync(file, stringify({ tswren: { backend }, [section]: requiredSample(section) }));
  return file;
}

describe.each(computeBackendNames())("executor options with a config file selecting %s", (backend) => {
  const section = computeSectionName(backend);
  const keys = BACKEND_OPTION_KEYS[backend];

  it("timeout, workers and runtimeMemory land in the selected backend's section", () => {
    const env = { TSWREN_CONFIG_FILE: configFile(backend, section) };
    const config = loadConfig({ env, cwd: root, home: root, ...executorSources({ timeout: 30, workers: 3, runtimeMemory: 512 }) });
    expect(config.tswren.backend).toBe(backend);
    const loaded: Record<string, unknown> = { ...computeSection(config, backend) };
    expect([loaded[keys.timeout], loaded[keys.workers], loaded[keys.runtimeMemory]]).toEqual([30, 3, 512]);
    if (backend !== "localhost") expect(config.localhost.runtime_timeout).toBe(600);
  });

  it("a value the selected backend refuses is an error naming its key", () => {
    const env = { TSWREN_CONFIG_FILE: configFile(backend, section) };
    expect(() => loadConfig({ env, cwd: root, home: root, ...executorSources({ workers: 0 }) })).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG_BAD_VALUE, message: expect.stringContaining(`executor options: \`${section}.${keys.workers}\``) as unknown }),
    );
  });

  it("the option wins over the same key in the executor's config object", () => {
    const config = loadConfig({
      env: {},
      cwd: root,
      home: root,
      config: { tswren: { backend }, [section]: { ...requiredSample(section), [keys.timeout]: 7 } },
      ...executorSources({ timeout: 45 }),
    });
    const loaded: Record<string, unknown> = { ...computeSection(config, backend) };
    expect(loaded[keys.timeout]).toBe(45);
  });
});
