/**
 * `tswren jobs`: the recent jobs recorded in the configured storage, with their state and cost
 * (the references `attach` and `tswren logs` take). `tswren replay <call>`: run one call of a
 * recorded job again in this process (same bundle, input and extra env) to debug it.
 */
import type { Command } from "commander";
import { resultJson } from "./cli-job-io.js";
import { loadConfig } from "./config/index.js";
import { hideSecretsOnInspect } from "./config/redact.js";
import { storageSection } from "./config/sections.js";
import { ErrorCodes, TswrenError } from "./errors.js";
import { formatJobTable, listJobs } from "./jobs/job-list.js";
import { parseCallRef, storedReplaySource } from "./jobs/replay-stored.js";
import { replayCall } from "./replay.js";
import { createSelectedStorage } from "./storage/registry.js";

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

/**
 * `tswren replay <call>`: replay a call of a recorded job here; prints the value as JSON, or
 * throws the function's own error (the CLI prints its stack and exits 1).
 * @throws TswrenError `TSWREN_BAD_INPUT`, `TSWREN_NO_SUCH_JOB`, `TSWREN_NO_SUCH_KEY`
 */
export async function replayCommand(ref: string, print: Print): Promise<void> {
  const ids = parseCallRef(ref);
  const config = loadConfig();
  const t = config.tswren;
  const storage = await createSelectedStorage(config);
  let keepAlive: NodeJS.Timeout | undefined;
  try {
    const storageRef = { backend: t.storage, config: hideSecretsOnInspect(t.storage, { ...storageSection(config, t.storage) }), bucket: t.storage_bucket, prefix: t.storage_prefix };
    const src = await storedReplaySource(storage, storageRef, ids);
    process.stderr.write(`tswren: replaying call ${ids.executorId}/${ids.jobId}/${ids.callId} in this process (pid ${process.pid})\n`);
    // replayCall's timeout timer does not hold a process open: a call that waits for its abort must.
    keepAlive = setInterval(() => undefined, 1000);
    print(resultJson(await replayCall(src, storage, src.base.timeoutMs)));
  } finally {
    clearInterval(keepAlive);
    await storage.close();
  }
}

/** Register `jobs` and `replay`. */
export function registerJobListCommands(cmd: Command, print: Print): void {
  cmd
    .command("jobs")
    .description("list the recent jobs recorded in the configured storage, with state and cost (references for attach and logs)")
    .option("-n, --limit <n>", "show at most this many jobs (default 20)")
    .option("--json", "print the list as JSON")
    .action((opts: { limit?: string; json?: boolean }) => jobsCommand(print, opts));
  cmd
    .command("replay")
    .description("run one call of a recorded job again in this process, to debug it: prints its value as JSON or its own error with the real stack")
    .argument("<call>", "the call, as error messages name it: <executorId>/<jobId>/<callId>")
    .action((ref: string) => replayCommand(ref, print));
}
