import { describe, expect, it } from "vitest";
import { brokerError, checkAmqpUrl, describeBroker, queueName } from "../../kernel-lib/src/monitor/rabbitmq/broker.js";
import { decodeMonitorMessage, encodeMonitorMessage, failedStatus } from "../../kernel-lib/src/protocol.js";

const job = { executorId: "a1b2c3-0", jobId: "M000", hostJobCreateMs: 1, hostSubmitMs: 2 };

describe("RabbitMQ broker addressing", () => {
  it("names the broker by host, port and vhost, never by its credentials", () => {
    expect(describeBroker("amqp://u:pw@broker.example.com/tswren")).toBe("amqp://broker.example.com:5672 (vhost tswren)");
    expect(describeBroker("amqps://u:pw@h:5999")).toBe("amqps://h:5999 (vhost /)");
    expect(describeBroker("amqp://u:pw@h/%2F")).toBe("amqp://h:5672 (vhost /)");
  });

  it("accepts amqp and amqps URLs and refuses others without echoing them", () => {
    expect(checkAmqpUrl("amqp://u:p@127.0.0.1:5672/v")).toBe("amqp://u:p@127.0.0.1:5672/v");
    expect(checkAmqpUrl("amqps://h")).toBe("amqps://h");
    for (const bad of ["http://u:secret@h/", "secret-not-a-url", "", 42, undefined]) {
      let err: unknown;
      try {
        checkAmqpUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: "TSWREN_CONFIG_BAD_VALUE" });
      expect((err as Error).message).not.toContain("secret");
    }
  });

  it("classifies refusals as credentials and the rest as unreachable, hiding the password", () => {
    const url = "amqp://user:hunter2@h:5672/v";
    const refused = brokerError(new Error("Handshake terminated by server: 403 (ACCESS-REFUSED) hunter2"), url);
    expect(refused).toMatchObject({ code: "TSWREN_MONITOR_CREDENTIALS" });
    expect(refused.message).not.toContain("hunter2");
    expect(brokerError(new Error("Expected ConnectionOpenOk; got <ConnectionClose channel:0>"), url)).toMatchObject({ code: "TSWREN_MONITOR_CREDENTIALS" });
    const down = brokerError(new Error(`connect ECONNREFUSED for ${url}`), url);
    expect(down).toMatchObject({ code: "TSWREN_MONITOR_UNREACHABLE" });
    expect(down.message).not.toContain("hunter2");
    expect(down.message).toContain("h:5672");
  });

  it("gives each executor its own queue", () => {
    expect(queueName("a1b2c3-0")).toBe("tswren-a1b2c3-0");
  });
});

describe("monitor messages", () => {
  it("round-trip starts and statuses (inline result bytes included)", () => {
    const start = { type: "start" as const, ...job, callId: "00003", attempt: 2, workerStartMs: 5 };
    expect(decodeMonitorMessage(encodeMonitorMessage(start))).toEqual({ type: "start", executorId: job.executorId, jobId: "M000", callId: "00003", attempt: 2, workerStartMs: 5 });
    const status = { ...failedStatus(job, { callId: "00001", attempt: 1 }, { kind: "exception", name: "E", message: "m" }, "w"), ok: true, result: { kind: "inline" as const, bytes: new Uint8Array([1, 2, 3]) } };
    delete (status as { error?: unknown }).error;
    const back = decodeMonitorMessage(encodeMonitorMessage({ type: "status", status }));
    expect(back.type).toBe("status");
    expect(back.type === "status" && back.status.result?.kind === "inline" ? [...back.status.result.bytes] : null).toEqual([1, 2, 3]);
  });

  it("refuses anything else", () => {
    for (const text of ["{}", '{"type":"start","callId":1}', '{"type":"status","status":{"protocolVersion":99}}', "not json"]) {
      expect(() => decodeMonitorMessage(Buffer.from(text))).toThrow();
    }
  });
});
