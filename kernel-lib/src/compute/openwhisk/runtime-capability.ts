/**
 * The runtime capabilities of the OpenWhisk backend (`tswren runtime deploy|list|delete`): the
 * runtime actions, one per memory size, described in lines for people.
 */
import type { RuntimeDeployCapability, RuntimeListCapability } from "../backend.js";
import type { RuntimeActions } from "./runtime-actions.js";
import type { WhiskSettings } from "./settings.js";

/** Where the runtime actions live, for messages. */
function where(settings: WhiskSettings): string {
  return `${settings.endpoint} (namespace ${settings.namespace})`;
}

/**
 * Deploy, list and remove the runtime actions of one OpenWhisk-style backend.
 * @param actions - the backend's runtime actions
 * @param settings - the backend's settings (endpoint, namespace, default memory, timeout)
 */
export function whiskRuntimeCapabilities(actions: RuntimeActions, settings: WhiskSettings): RuntimeDeployCapability & RuntimeListCapability {
  return {
    async deploy(memoryMb?: number): Promise<string> {
      const mb = memoryMb ?? settings.memoryMb;
      const deployed = await actions.deploy(mb);
      return `deployed ${deployed.action} (tswren ${deployed.tswrenVersion ?? "?"}, nodejs:20, ${mb} MB, timeout ${settings.timeoutS} s) at ${where(settings)}`;
    },
    async list(): Promise<string[]> {
      const found = await actions.list();
      if (found.length === 0) return [`no tswren runtime deployed at ${where(settings)}`];
      return found.map((r) => `${r.action}\t${r.memoryMb ?? "?"} MB\ttswren ${r.tswrenVersion ?? "unknown"}`);
    },
    async remove(memoryMb?: number): Promise<string[]> {
      const deleted = await actions.remove(memoryMb);
      if (deleted.length === 0) return [`nothing to delete at ${where(settings)}`];
      return deleted.map((action) => `deleted ${action}`);
    },
  };
}
