/**
 * Runtime images of the docker backend: `tswren runtime build|list|delete --backend docker`.
 * `build` writes a Dockerfile that adds the tswren runtime (and optional npm packages) to a base
 * image that has node, and builds it with `docker build`; images carry the label
 * `tswren.runtime=<tswren version>` so `list` and `delete` find them. Images can also be moved
 * between machines without a registry: `docker save` here, `docker load -i FILE` there.
 */
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ErrorCodes, TswrenError } from "../../errors.js";
import { TSWREN_VERSION } from "../../version.js";
import { runtimeFile } from "../runtime-files.js";
import { checkEngine, checkImage, runDocker, type EngineTarget } from "./docker-cli.js";

/** Label on every image `build` makes; its value is the tswren version. */
export const LABEL_RUNTIME = "tswren.runtime";
/** Base image when `--from` is not given (needs a reachable registry, or a loaded copy). */
export const DEFAULT_BASE_IMAGE = "node:20-bookworm-slim";

/** Options of {@link buildRuntimeImage}. */
export interface BuildOptions {
  /** Tag of the new image. */
  name: string;
  /** Base image with `node` on PATH (and `npm` when `npmPackages` is not empty). */
  from: string;
  /** npm packages installed into /opt/tswren/node_modules, e.g. `["lodash@4.17.21"]`. */
  npmPackages: readonly string[];
}

/** The Dockerfile of a runtime image. */
export function runtimeDockerfile(options: BuildOptions): string {
  const lines = [
    `FROM ${options.from}`,
    "WORKDIR /opt/tswren",
    "COPY runtime/ /opt/tswren/runtime/",
  ];
  if (options.npmPackages.length > 0) {
    const packages = options.npmPackages.map((p) => JSON.stringify(p)).join(" ");
    lines.push(`RUN ["/bin/sh", "-c", "npm init -y >/dev/null && npm install --no-audit --no-fund --omit=dev ${packages.replace(/"/g, '\\"')}"]`);
  }
  lines.push(`LABEL ${LABEL_RUNTIME}="${TSWREN_VERSION}"`, `CMD ["node", "/opt/tswren/runtime/docker-worker.mjs"]`, "");
  return lines.join("\n");
}

/**
 * Build a runtime image; resolves with one line for people.
 * @throws TswrenError `TSWREN_COMPUTE_UNREACHABLE` (no engine), `TSWREN_RUNTIME_MISSING` (no
 *   base image), `TSWREN_COMPUTE` (the build failed, with its last output lines)
 */
export async function buildRuntimeImage(target: EngineTarget, options: BuildOptions): Promise<string> {
  await checkEngine(target);
  await checkImage(target, options.from).catch(() => {
    throw new TswrenError(ErrorCodes.RUNTIME_MISSING, `the base image ${options.from} (--from) is not in the engine at ${target.dockerHost}; load it with \`docker load -i FILE.tar\` or \`docker pull ${options.from}\`, or pass --from with an image that has node`);
  });
  const context = await mkdtemp(path.join(tmpdir(), "tswren-image-"));
  try {
    await cp(runtimeFile("docker-worker.mjs"), path.join(context, "runtime", "docker-worker.mjs"));
    await writeFile(path.join(context, "Dockerfile"), runtimeDockerfile(options));
    await runDocker({ ...target }, ["build", "--quiet", "--tag", options.name, context], { timeoutMs: 30 * 60_000 });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return `built ${options.name} from ${options.from} (tswren ${TSWREN_VERSION}${options.npmPackages.length > 0 ? `, npm: ${options.npmPackages.join(" ")}` : ""})`;
}

/** One line per tswren runtime image in the engine. */
export async function listImageLines(target: EngineTarget): Promise<string[]> {
  await checkEngine(target);
  const out = await runDocker(target, ["images", "--filter", `label=${LABEL_RUNTIME}`, "--format", "{{.Repository}}:{{.Tag}}\t{{.Size}}\t{{.CreatedSince}}"]);
  const lines = out.split("\n").filter((l) => l.trim() !== "");
  return lines.length > 0 ? lines : [`no tswren runtime image in the engine at ${target.dockerHost}; build one with \`tswren runtime build --backend docker\``];
}

/** Remove a runtime image; resolves with one line for people. */
export async function deleteImage(target: EngineTarget, name: string): Promise<string> {
  await checkEngine(target);
  await checkImage(target, name);
  await runDocker(target, ["rmi", name]);
  return `deleted ${name}`;
}
