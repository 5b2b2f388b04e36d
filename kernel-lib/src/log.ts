/**
 * Debug logging of the client (`tswren.log_level`, or the `TSWREN_LOGLEVEL` environment variable
 * which wins): one line per event on stderr, `tswren <LEVEL> <time> <executorId> <what>`. Lines
 * carry ids, counts, backend names and hashes, never config values (no secrets). A disabled
 * level costs one comparison: messages are built only when printed.
 */
import { CONFIG_SCHEMA } from "./config/schema.js";
import { ErrorCodes, TswrenError } from "./errors.js";

/** A log level, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: readonly LogLevel[] = CONFIG_SCHEMA.tswren.keys.log_level.values;

/** Prints an executor's log lines at or above its level. */
export class Logger {
  private readonly rank: number;

  /**
   * @param executorId - prefixes every line
   * @param level - least severe level printed
   */
  constructor(private readonly executorId: string, readonly level: LogLevel) {
    this.rank = LEVELS.indexOf(level);
  }

  /** True when lines of `level` are printed. */
  enabled(level: LogLevel): boolean {
    return LEVELS.indexOf(level) >= this.rank;
  }

  /** Print a debug line; `message` is called only when debug lines are printed. */
  debug(message: () => string): void {
    if (this.rank === 0) this.print("debug", message());
  }

  /** Print a warning line. */
  warn(message: string): void {
    if (this.enabled("warn")) this.print("warn", message);
  }

  private print(level: LogLevel, message: string): void {
    process.stderr.write(`tswren ${level.toUpperCase()} ${new Date().toISOString()} ${this.executorId} ${message}\n`);
  }
}

/**
 * The log level in effect: `TSWREN_LOGLEVEL` when set, else the config's `log_level`.
 * @throws TswrenError `TSWREN_CONFIG_BAD_VALUE` for a `TSWREN_LOGLEVEL` that is not a level
 */
export function effectiveLogLevel(configured: LogLevel, env: NodeJS.ProcessEnv = process.env): LogLevel {
  const raw = env["TSWREN_LOGLEVEL"];
  if (raw === undefined || raw === "") return configured;
  const level = raw.toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new TswrenError(ErrorCodes.CONFIG_BAD_VALUE, `TSWREN_LOGLEVEL must be one of ${LEVELS.join(", ")}; got ${JSON.stringify(raw)}`);
  }
  return level as LogLevel;
}
