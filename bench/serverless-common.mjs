// Shared pieces of bench/serverless.mjs and bench/serverless-lambda.mjs.

export const noop = (x) => x;
export const range = (n) => Array.from({ length: n }, (_, i) => i);
export const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

/**
 * Invocations submitted per second by one client: a map of `n` no-op calls timed until every
 * invocation was accepted by the platform, 3 times (median). The platform's own count of accepted
 * invocations must grow by at least `n` each time (nothing is counted that it did not accept).
 * @param platform - `hold(on)`: accept invocations without running them; `accepted()`: the platform's count
 * @param hold - measure with the platform holding the invocations (they are cancelled afterwards)
 */
export async function submitRate(fx, platform, n, hold) {
  await platform.hold(hold);
  const runs = [];
  try {
    // Warm-up: the first map after a pause pays for JIT and sockets.
    const warm = await fx.map(noop, range(1000), { timeout: 600 });
    if (hold) await fx.cancel(warm);
    else await fx.getResult(warm, { timeout: 900 });
    for (let r = 0; r < 3; r++) {
      const before = await platform.accepted();
      const t0 = performance.now();
      const futures = await fx.map(noop, range(n), { timeout: 600 });
      const seconds = (performance.now() - t0) / 1000;
      const accepted = (await platform.accepted()) - before;
      if (accepted < n) throw new Error(`the platform counted ${accepted} accepted invocations for ${n} calls`);
      runs.push(n / seconds);
      console.error(`[bench] ${hold ? "held" : "running"} submit ${n} calls: ${(n / seconds).toFixed(0)}/s`);
      if (hold) await fx.cancel(futures);
      else await fx.getResult(futures, { timeout: 900 });
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    await platform.hold(false);
  }
  return { calls: n, perSecond: median(runs), runs };
}

/**
 * One remote-invoker map of `n` no-op calls: the client's phases, from the futures' stats (job
 * creation - capture, serialize inputs, upload - ends at hostSubmitMs; submitting is handing the
 * created job to the platform), and the time until every result was read.
 */
export async function remoteSubmit(fx, n) {
  const t0 = Date.now();
  const futures = await fx.map(noop, range(n), { remoteInvoker: true });
  const returned = Date.now();
  const results = await fx.getResult(futures, { timeout: 900 });
  const ended = Date.now();
  if (results.length !== n || results[n - 1] !== n - 1) throw new Error("wrong results");
  const { hostSubmitMs } = futures[0].stats;
  console.error(`[bench] remote invoker ${n} calls: submit ${returned - hostSubmitMs} ms, all results ${((ended - t0) / 1000).toFixed(1)} s`);
  return { calls: n, mapSeconds: (returned - t0) / 1000, createSeconds: (hostSubmitMs - t0) / 1000, submitSeconds: (returned - hostSubmitMs) / 1000, endToEndSeconds: (ended - t0) / 1000 };
}
