/**
 * Where the client keeps a deployment's signing key, and how it finds it. In order:
 * the backend section's `signing_key` (config file or executor config), the `TSWREN_SIGNING_KEY`
 * environment variable, then the key file `tswren runtime deploy` writes:
 * `$TSWREN_KEYS_DIR/<backend>.key` (default `~/.tswren/keys/<backend>.key`, folder 0700, file 0600).
 * Keys are never written to a bucket.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { ErrorCodes, TswrenError } from "../errors.js";
import { SIGNING_KEY_ENV, SigningKey, generateSigningKey } from "./signing.js";

/** Environment variable naming the folder of key files (default `~/.tswren/keys`). */
export const KEYS_DIR_ENV = "TSWREN_KEYS_DIR";

/** A key the client found, with where it came from (for messages; never the key itself). */
export interface FoundKey {
  key: SigningKey;
  /** e.g. `knative.signing_key`, `$TSWREN_SIGNING_KEY`, or the key file's path. */
  source: string;
  /** True when the key was generated just now (only {@link ensureSigningKey}). */
  created: boolean;
}

/**
 * The key file of a backend.
 * @param backend - compute backend name (`openwhisk`, `knative`, `aws_lambda`, `docker`, ...)
 * @param env - environment (default `process.env`)
 * @returns the file's absolute path
 */
export function signingKeyFile(backend: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[KEYS_DIR_ENV] ?? path.join(homedir(), ".tswren", "keys");
  return path.join(dir, `${backend}.key`);
}

function readKeyFile(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new TswrenError(ErrorCodes.SIGNING_KEY, `cannot read the signing key file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function asKey(text: string, source: string): FoundKey {
  try {
    return { key: new SigningKey(text, source), source, created: false };
  } catch (err) {
    throw new TswrenError(ErrorCodes.SIGNING_KEY, (err as Error).message);
  }
}

/**
 * The client's key for a backend, or undefined when none is configured anywhere.
 * @param backend - compute backend name (also the config section name)
 * @param section - the backend's config section (its `signing_key`, when set)
 * @param env - environment (default `process.env`)
 * @throws TswrenError `TSWREN_SIGNING_KEY` for a key that is too short or an unreadable key file
 */
export function findSigningKey(backend: string, section: object, env: NodeJS.ProcessEnv = process.env): FoundKey | undefined {
  const configured = (section as Record<string, unknown>)["signing_key"];
  if (typeof configured === "string" && configured !== "") return asKey(configured, `${backend}.signing_key`);
  const fromEnv = env[SIGNING_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return asKey(fromEnv, `$${SIGNING_KEY_ENV}`);
  const file = signingKeyFile(backend, env);
  const text = readKeyFile(file);
  return text === undefined || text === "" ? undefined : asKey(text, file);
}

/**
 * The client's key for a backend.
 * @throws TswrenError `TSWREN_SIGNING_KEY` when no key is configured, naming every place looked at
 */
export function clientSigningKey(backend: string, section: object, env: NodeJS.ProcessEnv = process.env): SigningKey {
  const found = findSigningKey(backend, section, env);
  if (found !== undefined) return found.key;
  throw new TswrenError(
    ErrorCodes.SIGNING_KEY,
    `no signing key for the ${backend} runtime: run \`tswren runtime deploy\` (it generates one and keeps it in ${signingKeyFile(backend, env)}), ` +
      `or set ${backend}.signing_key or $${SIGNING_KEY_ENV} to the key the runtime was deployed with (see docs/security.md)`,
  );
}

/**
 * The client's key for a backend, generated and stored in the key file (0600, folder 0700) when
 * none is configured. Used when a runtime is deployed.
 * @returns the key and where it is kept
 */
export function ensureSigningKey(backend: string, section: object, env: NodeJS.ProcessEnv = process.env): FoundKey {
  const found = findSigningKey(backend, section, env);
  if (found !== undefined) return found;
  const file = signingKeyFile(backend, env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${generateSigningKey()}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new TswrenError(ErrorCodes.SIGNING_KEY, `cannot write the signing key file ${file}: ${(err as Error).message}`, { cause: err });
    return asKey(readKeyFile(file) ?? "", file);
  }
  return { ...asKey(readKeyFile(file) ?? "", file), created: true };
}

/**
 * A compute backend's signing key, looked up once: {@link DeploymentKey.current} for invoking
 * (error when none is configured), {@link DeploymentKey.forDeploy} when the backend deploys its
 * runtime (generates and stores one when none is configured).
 */
export class DeploymentKey {
  private found: FoundKey | undefined;

  /**
   * @param backend - compute backend name (key file name, messages)
   * @param section - the backend's config section
   */
  constructor(
    private readonly backend: string,
    private readonly section: object,
  ) {
    this.found = findSigningKey(backend, section);
  }

  /** The key to sign with. @throws TswrenError `TSWREN_SIGNING_KEY` when none is configured */
  current(): SigningKey {
    this.found ??= findSigningKey(this.backend, this.section);
    return this.found?.key ?? clientSigningKey(this.backend, this.section);
  }

  /** The key to deploy a runtime with, generated (and kept in the key file) when missing. */
  forDeploy(): FoundKey {
    this.found = ensureSigningKey(this.backend, this.section);
    return this.found;
  }

  /** Where the key is kept (config key, env variable or file); never the key itself. */
  source(): string | undefined {
    return this.found?.source;
  }
}
