/**
 * The notebook display sink: how the library puts rich outputs (progress bars, plots) in the
 * running cell, and updates them in place by display id.
 *
 * Chosen on every use, so importing the library is enough (no user call):
 * 1. the `tswren` kernel's hook (`globalThis.__tswrenKernel`, see kernel-hook.ts);
 * 2. stock tslab: the kernel's own `tslab/dist/jupyter.js` `lastWriteDisplayData` (multi-MIME
 *    bundles with a display id), found among the modules the kernel already loaded, starting from
 *    the tslab instance cells get (`globalThis.__tslab__.require("tslab")`); never a second copy;
 * 3. stock tslab without that module: `tslab.newDisplay().raw(...)` with the richest MIME type;
 * 4. otherwise (plain Node, or tslab before any execute request): no sink.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { kernelHook, type DisplayContent } from "./kernel-hook.js";

/** One display in a cell, updated in place. */
export interface DisplayHandle {
  /** The display id (`transient.display_id`). */
  readonly displayId: string;
  /** Replace the display's content with a new MIME bundle (`update_display_data`). */
  update(data: Record<string, unknown>): void;
}

/** Where rich outputs go. */
export interface DisplaySink {
  /** Which mechanism this sink uses. */
  readonly kind: "tswren-kernel" | "tslab" | "tslab-raw";
  /** Show a MIME bundle as a new display in the running cell. */
  show(data: Record<string, unknown>): DisplayHandle;
  /**
   * A value that stays the same for every output of the running cell and changes with the next
   * execute request (undefined when the sink cannot tell).
   */
  cellToken(): unknown;
}

type WriteDisplayData = (content: DisplayContent, update: boolean) => void;

interface TslabJupyterModule {
  lastWriteDisplayData: WriteDisplayData | null;
}

interface TslabDisplay {
  raw(mime: string, data: unknown): void;
}

interface TslabPublic {
  newDisplay?: () => TslabDisplay;
}

interface TslabGlobal {
  require?: (id: string) => unknown;
}

/** MIME types the raw fallback prefers, richest first (it can send only one per display). */
const RAW_PREFERENCE = ["application/vnd.vegalite.v5+json", "text/html", "image/svg+xml", "text/plain"];

function newDisplayId(): string {
  return `tswren-${randomBytes(8).toString("hex")}`;
}

/** The tslab instance of the running kernel (the one cells get), or undefined outside tslab. */
export function kernelTslab(): TslabPublic | undefined {
  const tslab = (globalThis as { __tslab__?: TslabGlobal }).__tslab__;
  if (typeof tslab?.require !== "function") return undefined;
  try {
    return tslab.require("tslab") as TslabPublic;
  } catch {
    return undefined;
  }
}

const jupyterModules = new WeakMap<object, TslabJupyterModule | null>();

/**
 * The kernel's already-loaded `tslab/dist/jupyter.js`, looked up in the module cache next to the
 * kernel's `tslab/dist/public.js` (never loaded here: loading would make a second copy).
 * @param pub - the kernel's tslab (from {@link kernelTslab})
 */
export function tslabJupyterModule(pub: object): TslabJupyterModule | undefined {
  if (!jupyterModules.has(pub)) {
    const cache = createRequire(import.meta.url).cache;
    const owner = Object.values(cache).find((m) => m?.exports === pub);
    const jupyter = owner ? cache[path.join(path.dirname(owner.filename), "jupyter.js")] : undefined;
    const exports = jupyter?.exports as Partial<TslabJupyterModule> | undefined;
    jupyterModules.set(pub, exports && "lastWriteDisplayData" in exports ? (exports as TslabJupyterModule) : null);
  }
  return jupyterModules.get(pub) ?? undefined;
}

function bundleSink(kind: DisplaySink["kind"], send: WriteDisplayData, cellToken: () => unknown): DisplaySink {
  return {
    kind,
    cellToken,
    show(data) {
      const displayId = newDisplayId();
      send({ data, metadata: {}, transient: { display_id: displayId } }, false);
      return { displayId, update: (next) => { send({ data: next, metadata: {}, transient: { display_id: displayId } }, true); } };
    },
  };
}

function rawSink(newDisplay: () => TslabDisplay): DisplaySink {
  const rawSend = (display: TslabDisplay, data: Record<string, unknown>): void => {
    const mime = RAW_PREFERENCE.find((m) => m in data) ?? Object.keys(data)[0];
    if (mime !== undefined) display.raw(mime, data[mime]);
  };
  return {
    kind: "tslab-raw",
    cellToken: () => undefined,
    show(data) {
      const display = newDisplay();
      rawSend(display, data);
      return { displayId: (display as { id?: string }).id ?? "", update: (next) => { rawSend(display, next); } };
    },
  };
}

/**
 * The display sink for the running cell, or undefined outside a notebook.
 * @returns a sink; callers keep it only for the current operation (the next cell may differ)
 */
export function notebookSink(): DisplaySink | undefined {
  const hook = kernelHook();
  if (hook) return bundleSink("tswren-kernel", (content, update) => { hook.sendDisplay(content, update); }, () => hook.cellSignal());
  const pub = kernelTslab();
  if (!pub) return undefined;
  const jupyter = tslabJupyterModule(pub);
  if (jupyter) {
    const write = jupyter.lastWriteDisplayData;
    return write ? bundleSink("tslab", write, () => jupyter.lastWriteDisplayData) : undefined;
  }
  const newDisplay = pub.newDisplay;
  return typeof newDisplay === "function" ? rawSink(() => newDisplay.call(pub)) : undefined;
}
