import { describe, expect, it } from "vitest";
import { InvokeQueue, throttleDelayMs, type FailureDecision, type QueueTask } from "../../kernel-lib/src/compute/openwhisk/invoke-queue.js";

/** A task whose attempts follow a declared table: per attempt, "ok" or the decision after failing. */
function scripted(name: string, table: Array<"ok" | FailureDecision>, log: string[]): QueueTask<string> {
  let attempt = 0;
  let decision: FailureDecision | undefined;
  return {
    attempt: () => {
      const step = table[attempt++] ?? "ok";
      log.push(`${name}#${attempt}`);
      if (step === "ok") return Promise.resolve(name);
      decision = step;
      return Promise.reject(new Error(`${name} failed`));
    },
    onFailure: () => decision ?? { kind: "fail", error: new Error("no decision") },
  };
}

const throttled = (): FailureDecision => ({ kind: "throttled", error: new Error("still throttled") });

describe("throttleDelayMs", () => {
  it("follows retry_sleeps, then doubles the last one, capped, with jitter between half and all", () => {
    const full = (): number => 0.999999;
    expect(throttleDelayMs(1, [1, 5], 30_000, full)).toBe(1000);
    expect(throttleDelayMs(2, [1, 5], 30_000, full)).toBe(5000);
    expect(throttleDelayMs(3, [1, 5], 30_000, full)).toBe(10_000);
    expect(throttleDelayMs(4, [1, 5], 30_000, full)).toBe(20_000);
    expect(throttleDelayMs(9, [1, 5], 30_000, full)).toBe(30_000);
    expect(throttleDelayMs(1, [1, 5], 30_000, () => 0)).toBe(500);
    expect(throttleDelayMs(1, [0], 30_000, full)).toBeGreaterThan(0);
  });
});

describe("InvokeQueue", () => {
  it("keeps at most `concurrency` requests in flight", async () => {
    const q = new InvokeQueue({ concurrency: 2, throttleSleepsS: [0.01], giveUpMs: 10_000 });
    let inFlight = 0;
    let most = 0;
    const task = (): QueueTask<void> => ({
      attempt: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
      },
      onFailure: (err) => ({ kind: "fail", error: err as Error }),
    });
    await Promise.all(Array.from({ length: 10 }, () => q.push(task())));
    expect(most).toBe(2);
    expect(q.stats.accepted).toBe(10);
  });

  it("a 429 pauses every request and re-queues the refused one first", async () => {
    const log: string[] = [];
    const q = new InvokeQueue({ concurrency: 1, throttleSleepsS: [0.02], giveUpMs: 10_000 });
    const results = await Promise.all([q.push(scripted("a", [throttled(), throttled(), "ok"], log)), q.push(scripted("b", ["ok"], log))]);
    expect(results).toEqual(["a", "b"]);
    expect(log).toEqual(["a#1", "a#2", "a#3", "b#1"]);
    expect(q.stats.throttled).toBe(2);
  });

  it("retries after a delay without holding a slot, and fails when told to", async () => {
    const log: string[] = [];
    const q = new InvokeQueue({ concurrency: 1, throttleSleepsS: [0.01], giveUpMs: 10_000 });
    const a = q.push(scripted("a", [{ kind: "retry", delayMs: 30 }, "ok"], log));
    const b = q.push(scripted("b", [{ kind: "fail", error: new Error("b is refused") }], log));
    await expect(b).rejects.toThrow("b is refused");
    await expect(a).resolves.toBe("a");
    expect(log).toEqual(["a#1", "b#1", "a#2"]);
  });

  it("rejects the backlog when throttled with nothing accepted for giveUpMs", async () => {
    let now = 0;
    const q = new InvokeQueue({ concurrency: 1, throttleSleepsS: [0.001], giveUpMs: 1000, nowMs: () => now });
    const forever: QueueTask<string> = {
      attempt: () => {
        now += 400;
        return Promise.reject(new Error("429"));
      },
      onFailure: () => ({ kind: "throttled", error: new Error("gave up: still throttled") }),
    };
    const waiting = q.push(scripted("later", ["ok"], []));
    const first = q.push(forever);
    await expect(waiting).resolves.toBe("later");
    await expect(first).rejects.toThrow("gave up: still throttled");
    expect(q.stats.throttled).toBeGreaterThanOrEqual(3);
  });

  it("cancel drops queued requests by meta; close rejects the rest and new ones", async () => {
    const q = new InvokeQueue<{ job: string }>({ concurrency: 1, throttleSleepsS: [0.01], giveUpMs: 10_000 });
    let release: () => void = () => undefined;
    const blocker = q.push({ attempt: () => new Promise<void>((r) => { release = r; }), onFailure: (e) => ({ kind: "fail", error: e as Error }) }, { job: "A" });
    const a = q.push(scripted("a", ["ok"], []), { job: "A" });
    const b = q.push(scripted("b", ["ok"], []), { job: "B" });
    expect(q.cancel((m) => m?.job === "A", new Error("cancelled"))).toEqual([{ job: "A" }]);
    await expect(a).rejects.toThrow("cancelled");
    q.close(new Error("closed"));
    await expect(b).rejects.toThrow("closed");
    release();
    await blocker;
    await expect(q.push(scripted("c", ["ok"], []))).rejects.toThrow("closed");
  });
});
