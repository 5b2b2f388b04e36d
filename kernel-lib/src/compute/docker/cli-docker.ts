/**
 * `tswren runtime build|list|delete` for the docker backend (images instead of deployed actions).
 */
import type { ConfigSection } from "../../config/types.js";
import { ErrorCodes, TswrenError } from "../../errors.js";
import { buildRuntimeImage, DEFAULT_BASE_IMAGE, deleteImage, listImageLines } from "./images.js";
import { dockerSettings } from "./settings.js";

/** Options of the docker `runtime` subcommands. */
export interface DockerRuntimeOptions {
  /** Base image (build). */
  from?: string;
  /** Image name (build, delete); default `docker.runtime`. */
  name?: string;
  /** npm packages to install (build). */
  npm?: string[];
}

/**
 * Run `tswren runtime build|list|delete` on the docker backend; resolves with lines for people.
 * @throws TswrenError `TSWREN_BAD_OPTION` for `deploy` (images are built, not deployed)
 */
export async function dockerRuntimeCommand(what: string, section: ConfigSection<"docker">, options: DockerRuntimeOptions): Promise<string[]> {
  const settings = dockerSettings(section);
  const name = options.name ?? settings.image;
  switch (what) {
    case "build":
      return [await buildRuntimeImage(settings, { name, from: options.from ?? DEFAULT_BASE_IMAGE, npmPackages: options.npm ?? [] })];
    case "list":
      return listImageLines(settings);
    case "delete":
      return [await deleteImage(settings, name)];
    default:
      throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren runtime ${what} does not apply to the docker backend; use \`tswren runtime build --backend docker [--from IMAGE] [--name TAG]\`, \`runtime list\` or \`runtime delete\``);
  }
}
