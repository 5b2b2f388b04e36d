import { describe, expect, it } from "vitest";
import { waitFutures } from "../../kernel-lib/src/wait.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { caught } from "../helpers/caught.js";
import { endFuture, jobFutures } from "../helpers/futures.js";

describe("wait keeps no listeners behind", () => {
  it("an ANY_COMPLETED loop over 10,000 futures leaves each pending future with no listener after every wait", async () => {
    const futures = jobFutures("M000", 10_000);
    let pending = futures;
    let rounds = 0;
    while (pending.length > 0) {
      // End the next future once the wait registered its listeners.
      const next = pending[0];
      queueMicrotask(() => { if (next !== undefined) endFuture(next, true); });
      const [done, notDone] = await waitFutures(pending, { returnWhen: "ANY_COMPLETED" });
      expect(done.length).toBeGreaterThanOrEqual(1);
      if (rounds % 1000 === 0 || notDone.length < 3) {
        expect(notDone.reduce((n, f) => n + f.listenerCount(), 0)).toBe(0);
      }
      pending = notDone;
      rounds++;
    }
    expect(rounds).toBe(10_000);
    expect(futures.every((f) => f.listenerCount() === 0)).toBe(true);
  });

  it("a wait ended by its timeout removes its listeners too", async () => {
    const futures = jobFutures("M001", 100);
    const [, notDone] = await waitFutures(futures, { timeout: 0.01 });
    expect(notDone).toHaveLength(100);
    expect(futures.reduce((n, f) => n + f.listenerCount(), 0)).toBe(0);
  });

  it("a timeout above what Node timers hold is refused, naming the maximum", async () => {
    const err = await caught(waitFutures(jobFutures("M002", 1), { timeout: 3e6 }));
    expect(err.code).toBe(ErrorCodes.BAD_OPTION);
    expect(err.message).toContain("2147483 s");
  });
});
