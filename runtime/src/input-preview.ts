/**
 * A short, safe preview of a call's input for error displays (`RemoteErrorInfo.input`): the value
 * as `util.inspect` shows it, shallow and cut to {@link PREVIEW_CHARS}; for a part of
 * `objects(...)`, only where the part lies (never the storage client it carries).
 */
import { inspect } from "node:util";

/** The longest preview, in characters. */
export const PREVIEW_CHARS = 120;

/** The fields of a `CloudObject` a preview shows. */
interface PartView {
  url?: string;
  bucket?: string;
  key?: string;
  part: number;
  totalParts: number;
}

function partPreview(item: PartView): string {
  const where = item.url ?? `${item.bucket ?? ""}/${item.key ?? ""}`;
  return `${where} (part ${item.part} of ${item.totalParts})`;
}

/**
 * Preview an input.
 * @param item - what the function received
 * @param isPart - true when it is a `CloudObject` of a data job
 * @returns one line of at most {@link PREVIEW_CHARS} characters
 */
export function previewInput(item: unknown, isPart: boolean): string {
  const text = isPart
    ? partPreview(item as PartView)
    : inspect(item, { depth: 2, maxArrayLength: 8, maxStringLength: 80, breakLength: Infinity, compact: true, colors: false });
  const line = text.replace(/\s*\n\s*/g, " ");
  return line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS - 1)}…` : line;
}
