/**
 * `tswren jobs`: the recent jobs recorded in the configured storage, with their state and cost
 * (the references `attach` and `tswren logs` take).
 */
import type { Command } from "commander";
import { loadConfig } from "./config/index.js";
import { ErrorCodes, TswrenError } from "./errors.js";
import { formatJobTable, listJobs } from "./jobs/job-list.js";

type Print = (line: string) => void;

/**
 * `tswren jobs [--limit n] [--json]`.
 * @throws TswrenError `TSWREN_BAD_OPTION` for a bad `--limit`
 */
export async function jobsCommand(print: Print, options: { limit?: string; json?: boolean }): Promise<void> {
  const limit = options.limit === undefined ? 20 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new TswrenError(ErrorCodes.BAD_OPTION, `tswren jobs: --limit must be a whole number >= 1; got ${JSON.stringify(options.limit)}`);
  const jobs = await listJobs(loadConfig(), limit);
  if (options.json === true) {
    print(JSON.stringify(jobs));
    return;
  }
  for (const line of formatJobTable(jobs)) print(line);
}

/** Register `jobs`. */
export function registerJobListCommands(cmd: Command, print: Print): void {
  cmd
    .command("jobs")
    .description("list the recent jobs recorded in the configured storage, with state and cost (references for attach and logs)")
    .option("-n, --limit <n>", "show at most this many jobs (default 20)")
    .option("--json", "print the list as JSON")
    .action((opts: { limit?: string; json?: boolean }) => jobsCommand(print, opts));
}
