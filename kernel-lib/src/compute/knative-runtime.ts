/**
 * `tswren runtime list` on Knative: the service's versions from its `GET /metadata`. A Knative
 * service is deployed with kn or kubectl (docs/backends/knative.md), so there is no deploy.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import type { RuntimeListCapability } from "./backend.js";

/** Read the service's `GET /metadata` answer. */
async function readMetadata(target: URL): Promise<string> {
  let status = 0;
  let text = "";
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(30_000) });
    status = res.status;
    text = await res.text();
  } catch (err) {
    throw new TswrenError(ErrorCodes.COMPUTE_UNREACHABLE, `cannot read ${target.href} (${err instanceof Error ? err.message : String(err)}); check knative.url`, { cause: err });
  }
  if (status < 200 || status > 299) {
    throw new TswrenError(ErrorCodes.COMPUTE_UNREACHABLE, `cannot read ${target.href} (HTTP ${status}: ${text.slice(0, 200)}); check knative.url`);
  }
  return text;
}

/**
 * The runtime list of a Knative service: one line with its versions.
 * @param url - the service URL (`knative.url`)
 */
export function knativeRuntimeList(url: URL): RuntimeListCapability {
  return {
    async list(): Promise<string[]> {
      const base = url.href.endsWith("/") ? url.href : `${url.href}/`;
      const text = await readMetadata(new URL("metadata", base));
      return [`knative service ${url.href.replace(/\/$/, "")}: ${text.trim()}`];
    },
  };
}
