import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCodes, TswrenError } from "../../kernel-lib/src/errors.js";
import type { ErrorCode } from "../../kernel-lib/src/errors.js";
import { CONFIG_SCHEMA, SECTION_NAMES, loadConfig, redactConfig } from "../../kernel-lib/src/config/index.js";
import type { ConfigSources, KeySpec, SectionSpec, TswrenConfig } from "../../kernel-lib/src/config/index.js";

let root: string;
let cwd: string;
let home: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "tswren-config-"));
  cwd = path.join(root, "project");
  home = path.join(root, "home");
  mkdirSync(cwd);
  mkdirSync(path.join(home, ".tswren"), { recursive: true });
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Load with the temp dirs and an empty environment unless given. */
function load(sources: ConfigSources = {}): TswrenConfig {
  return loadConfig({ env: {}, cwd, home, ...sources });
}

/** The TswrenError `fn` throws; fails the test when it throws nothing or another code. */
function failure(fn: () => unknown, code: ErrorCode): TswrenError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TswrenError);
    expect((err as TswrenError).code).toBe(code);
    return err as TswrenError;
  }
  throw new Error("expected loadConfig to throw");
}

function write(file: string, text: string): string {
  writeFileSync(file, text);
  return file;
}

const SECRET = "s3cr3t-DO-NOT-PRINT";

describe("sources", () => {
  it("without any configuration uses localhost compute and storage with all defaults", () => {
    const cfg = load();
    expect(cfg.tswren).toEqual({
      backend: "localhost",
      storage: "localhost",
      storage_bucket: "tswren-data",
      storage_prefix: "tswren.jobs",
      data_cleaner: true,
      monitoring: "auto",
      retries: 0,
      max_calls: 1_000_000,
      retry_sleeps: [1, 5],
      log_level: "warn",
      execution_timeout: 1800,
    });
    expect(cfg.localhost).toEqual({ worker_processes: availableParallelism(), runtime_memory: 1024, runtime_timeout: 600, price_gb_s: 0, price_million_requests: 0, billing_ms: 1 });
    expect(cfg.localhost_storage.storage_root).toBe(path.join(home, ".tswren", "storage"));
    expect(Object.keys(cfg).sort()).toEqual(["localhost", "localhost_storage", "tswren"]);
  });

  it("prefers TSWREN_CONFIG_FILE over ./.tswren_config over ~/.tswren/config", () => {
    write(path.join(home, ".tswren", "config"), "tswren:\n  storage_bucket: from-home\n");
    expect(load().tswren.storage_bucket).toBe("from-home");
    write(path.join(cwd, ".tswren_config"), "tswren:\n  storage_bucket: from-cwd\n");
    expect(load().tswren.storage_bucket).toBe("from-cwd");
    const named = write(path.join(root, "named.yaml"), "tswren:\n  storage_bucket: from-env-file\n");
    expect(load({ env: { TSWREN_CONFIG_FILE: named } }).tswren.storage_bucket).toBe("from-env-file");
  });

  it("resolves TSWREN_CONFIG_FILE against cwd and expands ~", () => {
    write(path.join(cwd, "rel.yaml"), "tswren:\n  retries: 2\n");
    write(path.join(home, "tilde.yaml"), "tswren:\n  retries: 3\n");
    expect(load({ env: { TSWREN_CONFIG_FILE: "rel.yaml" } }).tswren.retries).toBe(2);
    expect(load({ env: { TSWREN_CONFIG_FILE: "~/tilde.yaml" } }).tswren.retries).toBe(3);
  });

  it("fails when TSWREN_CONFIG_FILE names a file that does not exist", () => {
    write(path.join(home, ".tswren", "config"), "tswren:\n  retries: 1\n");
    const missing = path.join(root, "nope.yaml");
    const err = failure(() => load({ env: { TSWREN_CONFIG_FILE: missing } }), ErrorCodes.CONFIG_FILE);
    expect(err.message).toContain(missing);
    expect(err.message).toContain("TSWREN_CONFIG_FILE");
  });

  it("lets TSWREN_CONFIG (YAML or JSON) override the file, merging sections key by key", () => {
    write(path.join(cwd, ".tswren_config"), "tswren:\n  retries: 2\n  log_level: info\n");
    const yaml = load({ env: { TSWREN_CONFIG: "tswren:\n  retries: 4\n" } });
    expect(yaml.tswren.retries).toBe(4);
    expect(yaml.tswren.log_level).toBe("info");
    const json = load({ env: { TSWREN_CONFIG: '{"tswren": {"retries": 5}, "localhost": {"worker_processes": 3}}' } });
    expect(json.tswren.retries).toBe(5);
    expect(json.localhost.worker_processes).toBe(3);
  });

  it("lets the config object override TSWREN_CONFIG, and options override both", () => {
    write(path.join(cwd, ".tswren_config"), "tswren:\n  retries: 1\n  data_cleaner: false\n");
    const env = { TSWREN_CONFIG: "tswren:\n  retries: 2\n  log_level: info\n" };
    const config = { tswren: { retries: 3, log_level: "debug" }, localhost: { worker_processes: 2 } };
    const withConfig = load({ env, config });
    expect(withConfig.tswren.retries).toBe(3);
    expect(withConfig.tswren.log_level).toBe("debug");
    expect(withConfig.tswren.data_cleaner).toBe(false);
    const withOptions = load({ env, config, overrides: { tswren: { retries: 7, log_level: undefined } } });
    expect(withOptions.tswren.retries).toBe(7);
    expect(withOptions.tswren.log_level).toBe("debug");
    expect(withOptions.localhost.worker_processes).toBe(2);
  });

  it("treats an empty file and null keys as not set", () => {
    write(path.join(cwd, ".tswren_config"), "# nothing yet\n");
    expect(load().tswren.retries).toBe(0);
    write(path.join(cwd, ".tswren_config"), "tswren:\n  retries:\nlocalhost:\n");
    expect(load().tswren.retries).toBe(0);
  });

  it("expands ~ and resolves relative storage_root paths", () => {
    expect(load({ config: { localhost_storage: { storage_root: "~/data" } } }).localhost_storage.storage_root).toBe(
      path.join(home, "data"),
    );
    expect(load({ config: { localhost_storage: { storage_root: "data" } } }).localhost_storage.storage_root).toBe(
      path.join(cwd, "data"),
    );
  });
});

describe("selected sections", () => {
  const openwhisk = { endpoint: "https://ow.example:443", api_key: SECRET };

  it("fills the selected backend's defaults and leaves out sections not in use", () => {
    const cfg = load({
      config: { tswren: { backend: "openwhisk", storage: "minio" }, openwhisk, s3: { region: "eu-west-1" } },
      overrides: { minio: { endpoint: "http://127.0.0.1:9000", access_key_id: "minio", secret_access_key: SECRET } },
    });
    expect(cfg.openwhisk).toMatchObject({ ...openwhisk, namespace: "_", runtime_memory: 256, runtime_timeout: 300 });
    expect(cfg.openwhisk?.runtime).toBeUndefined();
    expect(cfg.minio?.region).toBe("us-east-1");
    expect(cfg.s3).toBeUndefined();
  });

  it("names every missing openwhisk key and the section to put it in", () => {
    const err = failure(() => load({ config: { tswren: { backend: "openwhisk" } } }), ErrorCodes.CONFIG_BAD_VALUE);
    expect(err.message).toContain("`openwhisk.endpoint`");
    expect(err.message).toContain("`openwhisk.api_key`");
    expect(err.message).toContain("under `openwhisk:`");
    expect(err.message).toContain("tswren.backend: openwhisk");
  });

  it("requires one of api_key or iam_api_key for ibm_cf", () => {
    const config = { tswren: { backend: "ibm_cf" }, ibm_cf: { endpoint: "https://us-south.functions.cloud.ibm.com" } };
    const err = failure(() => load({ config }), ErrorCodes.CONFIG_BAD_VALUE);
    expect(err.message).toContain("one of `ibm_cf.api_key` or `ibm_cf.iam_api_key`");
    expect(load({ config: { ...config, ibm_cf: { ...config.ibm_cf, iam_api_key: SECRET } } }).ibm_cf?.max_workers).toBe(100);
  });

  it("requires rabbitmq.amqp_url when monitoring is rabbitmq", () => {
    const err = failure(() => load({ config: { tswren: { monitoring: "rabbitmq" } } }), ErrorCodes.CONFIG_BAD_VALUE);
    expect(err.message).toContain("`rabbitmq.amqp_url`");
  });
});

describe("errors", () => {
  it("suggests storage_bucket for storage_buckt, naming the file and line", () => {
    const file = write(path.join(cwd, ".tswren_config"), "tswren:\n  backend: localhost\n  storage_buckt: x\n");
    const err = failure(() => load(), ErrorCodes.CONFIG_UNKNOWN_KEY);
    expect(err.message).toContain(`config file ${file}, line 3`);
    expect(err.message).toContain("`tswren.storage_buckt`");
    expect(err.message).toContain("did you mean `storage_bucket`?");
  });

  it("suggests the snake_case key for a camelCase one", () => {
    const err = failure(() => load({ config: { tswren: { storageBucket: "x" } } }), ErrorCodes.CONFIG_UNKNOWN_KEY);
    expect(err.message).toContain("executor config object");
    expect(err.message).toContain("did you mean `storage_bucket`?");
  });

  it("suggests the section for a misspelled section or a key written at the top level", () => {
    const typo = failure(() => load({ config: { openwisk: {} } }), ErrorCodes.CONFIG_UNKNOWN_KEY);
    expect(typo.message).toContain("unknown section `openwisk`; did you mean `openwhisk`?");
    const lithops = failure(() => load({ config: { lithops: {} } }), ErrorCodes.CONFIG_UNKNOWN_KEY);
    expect(lithops.message).toContain("did you mean `tswren`?");
    const misplaced = failure(() => load({ config: { worker_processes: 2 } }), ErrorCodes.CONFIG_UNKNOWN_KEY);
    expect(misplaced.message).toContain("put it under `localhost:`");
    const elsewhere = failure(() => load({ config: { tswren: { worker_processes: 2 } } }), ErrorCodes.CONFIG_UNKNOWN_KEY);
    expect(elsewhere.message).toContain("`worker_processes` belongs in section `localhost`");
  });

  it("does not take Object.prototype names for keys", () => {
    failure(() => load({ env: { TSWREN_CONFIG: "tswren:\n  constructor: 1\n" } }), ErrorCodes.CONFIG_UNKNOWN_KEY);
    failure(() => load({ env: { TSWREN_CONFIG: "toString: {}\n" } }), ErrorCodes.CONFIG_UNKNOWN_KEY);
  });

  it("lists the allowed values of a bad enum and suggests the closest", () => {
    const err = failure(() => load({ env: { TSWREN_CONFIG: "tswren:\n  backend: openwisk\n" } }), ErrorCodes.CONFIG_BAD_VALUE);
    expect(err.message).toContain("TSWREN_CONFIG environment variable, line 2");
    expect(err.message).toContain("`tswren.backend` must be one of localhost, openwhisk, ibm_cf, knative");
    expect(err.message).toContain('got "openwisk"; did you mean `openwhisk`?');
  });

  it("rejects negative retries with the expected range, naming the option source", () => {
    const err = failure(() => load({ overrides: { tswren: { retries: -1 } } }), ErrorCodes.CONFIG_BAD_VALUE);
    expect(err.message).toContain("executor options");
    expect(err.message).toContain("`tswren.retries` must be an integer >= 0; got -1");
  });

  it("rejects a value of the wrong type, saying the type, range and unit", () => {
    const config = { openwhisk: { runtime_memory: "1024" } };
    const err = failure(() => load({ config }), ErrorCodes.CONFIG_BAD_VALUE);
    expect(err.message).toContain('`openwhisk.runtime_memory` must be an integer from 128 to 2048 (MB); got "1024" (a string)');
    const sleeps = failure(() => load({ config: { tswren: { retry_sleeps: [1, -2] } } }), ErrorCodes.CONFIG_BAD_VALUE);
    expect(sleeps.message).toContain("a list of numbers >= 0 (seconds)");
    failure(() => load({ config: { tswren: { storage_bucket: "Bad_Bucket" } } }), ErrorCodes.CONFIG_BAD_VALUE);
    failure(() => load({ config: { tswren: { storage_prefix: "/jobs" } } }), ErrorCodes.CONFIG_BAD_VALUE);
    failure(() => load({ config: { tswren: { execution_timeout: 0 } } }), ErrorCodes.CONFIG_BAD_VALUE);
    failure(() => load({ config: { tswren: "openwhisk" } }), ErrorCodes.CONFIG_BAD_VALUE);
    failure(() => load({ config: { localhost: new Map([["worker_processes", 2]]) } }), ErrorCodes.CONFIG_BAD_VALUE);
  });

  it("names the file, line and column of a YAML syntax error", () => {
    const file = write(path.join(cwd, ".tswren_config"), "tswren:\n  retries: 1\n\tbackend: localhost\n");
    const err = failure(() => load(), ErrorCodes.CONFIG_FILE);
    expect(err.message).toContain(`config file ${file}, line 3, column 1`);
    expect(err.message).toContain("tabs");
  });
});

describe("secrets", () => {
  /** Every way a secret could leak into an error message. */
  const leaks: [string, ConfigSources][] = [
    ["a secret of the wrong type", { config: { openwhisk: { api_key: [SECRET] } } }],
    ["an invalid secret URL", { config: { rabbitmq: { amqp_url: `http://u:${SECRET}@host` } } }],
    ["a secret written as a section", { config: { rabbitmq: SECRET } }],
    ["a secret under a misspelled key", { config: { s3: { secret_acces_key: SECRET } } }],
    ["a YAML syntax error inside a secret", { env: { TSWREN_CONFIG: `openwhisk:\n  api_key: "${SECRET}\n` } }],
    ["a bad escape in a secret", { env: { TSWREN_CONFIG: `s3:\n  secret_access_key: "\\q${SECRET}"\n` } }],
    ["an unexpected token after a secret", { env: { TSWREN_CONFIG: `- a\n${SECRET}: 1\n` } }],
    ["an alias named like a secret", { env: { TSWREN_CONFIG: `s3:\n  session_token: *${SECRET}\n` } }],
    [
      "missing keys while a secret is set",
      { config: { tswren: { backend: "openwhisk", storage: "minio" }, openwhisk: { api_key: SECRET }, minio: { secret_access_key: SECRET } } },
    ],
  ];

  it.each(leaks)("never appear in the error for %s", (_name, sources) => {
    let message = "";
    try {
      load(sources);
    } catch (err) {
      expect(err).toBeInstanceOf(TswrenError);
      message = `${(err as Error).message}\n${(err as Error).stack ?? ""}`;
    }
    expect(message).not.toBe("");
    expect(message).not.toContain(SECRET);
  });

  it("shows <hidden> where a bad secret value would be", () => {
    const err = failure(() => load({ config: { openwhisk: { api_key: 42 } } }), ErrorCodes.CONFIG_BAD_VALUE);
    expect(err.message).toContain("got <hidden>");
    expect(err.message).not.toContain("42");
  });

  it("are replaced by <hidden> in redactConfig and kept in the config", () => {
    const cfg = load({
      config: {
        tswren: { backend: "openwhisk", storage: "s3", monitoring: "rabbitmq" },
        openwhisk: { endpoint: "https://ow.example", api_key: SECRET },
        s3: { access_key_id: "AKIA", secret_access_key: SECRET, session_token: SECRET },
        rabbitmq: { amqp_url: `amqp://u:${SECRET}@mq.example` },
      },
    });
    expect(cfg.openwhisk?.api_key).toBe(SECRET);
    const shown = redactConfig(cfg);
    expect(JSON.stringify(shown)).not.toContain(SECRET);
    expect(shown["openwhisk"]).toMatchObject({ api_key: "<hidden>", endpoint: "https://ow.example" });
    expect(shown["s3"]).toMatchObject({ access_key_id: "AKIA", secret_access_key: "<hidden>", session_token: "<hidden>" });
    expect(shown["rabbitmq"]).toEqual({ amqp_url: "<hidden>" });
    expect(shown["tswren"]).toEqual(cfg.tswren);
  });
});

describe("docs/config.md", () => {
  function typeText(ks: KeySpec): string {
    const range =
      ks.min !== undefined && ks.max !== undefined
        ? ` ${ks.min}–${ks.max}`
        : ks.above !== undefined
          ? ` > ${ks.above}`
          : ks.min !== undefined
            ? ` >= ${ks.min}`
            : "";
    if (ks.type === "enum") return (ks.values ?? []).map((v) => `\`${v}\``).join(", ");
    if (ks.type === "number_list") return `list of numbers${range}`;
    return `${ks.type}${range}`;
  }

  function defaultText(ks: KeySpec): string {
    if (ks.defaultText !== undefined) return ks.defaultText;
    if (ks.default === undefined || typeof ks.default === "function") return "";
    return `\`${Array.isArray(ks.default) ? `[${ks.default.join(", ")}]` : String(ks.default)}\``;
  }

  function requiredText(spec: SectionSpec, key: string, ks: KeySpec): string {
    if (ks.required === true) return "yes";
    const group = spec.requireOneOf?.find((g) => g.includes(key));
    return group === undefined ? "" : `one of ${group.map((k) => `\`${k}\``).join(", ")}`;
  }

  /** The table row the schema implies, without the free-text meaning column. */
  function expectedRow(spec: SectionSpec, key: string, ks: KeySpec): string {
    const cells = [`\`${key}\``, typeText(ks), defaultText(ks), ks.unit ?? "", requiredText(spec, key, ks), ks.secret ? "yes" : ""];
    return `| ${cells.join(" | ")} |`;
  }

  it("has one row per schema key, with the schema's type, default, unit, required and secret columns", () => {
    const docs = readFileSync(path.join(import.meta.dirname, "../../docs/config.md"), "utf8");
    const expected: string[] = [];
    const actual: string[] = [];
    for (const name of SECTION_NAMES) {
      const spec: SectionSpec = CONFIG_SCHEMA[name];
      const body = docs.split(`\n### \`${name}\`\n`)[1]?.split("\n### ")[0] ?? "";
      for (const [key, ks] of Object.entries(spec.keys)) expected.push(`${name}: ${expectedRow(spec, key, ks)}`);
      for (const line of body.split("\n").filter((l) => l.startsWith("| `"))) {
        actual.push(`${name}: ${line.split(" | ").slice(0, 6).join(" | ")} |`);
      }
    }
    expect(actual).toEqual(expected);
  });
});
