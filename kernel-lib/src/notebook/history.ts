/**
 * The kernel's input history, answering Jupyter's `history_request` (messaging 5.3): `tail`,
 * `range` and `search` over the cells executed in this kernel session (tslab keeps none).
 */

/** One history entry: `[session, line, input]`, or `[session, line, [input, output]]` with `output`. */
export type HistoryEntry = [number, number, string] | [number, number, [string, string | null]];

/** The fields of a `history_request` this kernel reads. */
export interface HistoryRequest {
  output?: boolean;
  hist_access_type?: string;
  session?: number;
  start?: number;
  stop?: number | null;
  n?: number | null;
  pattern?: string;
  unique?: boolean;
}

/** The session number this kernel reports (one session per kernel process). */
export const HISTORY_SESSION = 1;

function globRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

/** Executed inputs of this kernel session, by execution count. */
export class CellHistory {
  private readonly lines: Array<{ line: number; input: string }> = [];

  /** Record the input run with execution count `line`. */
  add(line: number, input: string): void {
    this.lines.push({ line, input });
  }

  /** The executed cells, newest first, as error displays name them (`cell [4]`). */
  sources(): Array<{ label: string; code: string; file: false }> {
    return this.lines.map(({ line, input }) => ({ label: `cell [${line}]`, code: input, file: false as const })).reverse();
  }

  /**
   * The `history_reply` content for a request.
   * @param request - the request's content
   */
  reply(request: HistoryRequest): { status: "ok"; history: HistoryEntry[] } {
    return { status: "ok", history: this.select(request).map(({ line, input }) => this.entry(line, input, request.output === true)) };
  }

  private select(request: HistoryRequest): Array<{ line: number; input: string }> {
    const n = typeof request.n === "number" && request.n > 0 ? request.n : undefined;
    if (request.hist_access_type === "range") {
      if (request.session !== undefined && request.session !== 0 && request.session !== HISTORY_SESSION) return [];
      const start = request.start ?? 0;
      const stop = typeof request.stop === "number" ? request.stop : Number.POSITIVE_INFINITY;
      return this.lines.filter((l) => l.line >= start && l.line < stop);
    }
    if (request.hist_access_type === "search") {
      const re = globRegExp(request.pattern ?? "*");
      const found = this.unique(this.lines.filter((l) => re.test(l.input)), request.unique === true);
      return n === undefined ? found : found.slice(-n);
    }
    return this.unique(this.lines, request.unique === true).slice(-(n ?? 10)); // "tail"
  }

  private unique(list: Array<{ line: number; input: string }>, unique: boolean): Array<{ line: number; input: string }> {
    if (!unique) return list;
    const last = new Map<string, { line: number; input: string }>();
    for (const l of list) {
      last.delete(l.input);
      last.set(l.input, l);
    }
    return [...last.values()];
  }

  private entry(line: number, input: string, output: boolean): HistoryEntry {
    return output ? [HISTORY_SESSION, line, [input, null]] : [HISTORY_SESSION, line, input];
  }
}
