/**
 * `@tswren/jupyterlab-progress`: a JupyterLab 4 / Notebook 7 MIME renderer extension for tswren's
 * live job progress. Its rank (40) is below the HTML renderer's (50), so it wins over the
 * `text/html` fallback that travels in the same bundle.
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { PROGRESS_MIME } from "./payload.js";
import { ProgressRenderer } from "./widget.js";

export { PROGRESS_MIME, PAYLOAD_VERSION, parsePayload, formatElapsed } from "./payload.js";
export type { ProgressPayload, ParsedPayload, ReadPayload } from "./payload.js";
export { ProgressRenderer, ROOT_CLASS } from "./widget.js";

/** The renderer's rank: lower wins; JupyterLab's HTML renderer has 50. */
export const PROGRESS_RANK = 40;

/** Creates {@link ProgressRenderer}s for {@link PROGRESS_MIME}. */
export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [PROGRESS_MIME],
  defaultRank: PROGRESS_RANK,
  createRenderer: (options) => new ProgressRenderer(options.mimeType),
};

/** The extension JupyterLab loads. */
const extension: IRenderMime.IExtension = {
  id: "@tswren/jupyterlab-progress:plugin",
  rendererFactory,
  rank: PROGRESS_RANK,
  dataType: "json",
};

export default extension;
