import { inspect } from "node:util";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  SigningKey,
  clientSigningKey,
  ensureSigningKey,
  generateSigningKey,
  runtimeSigningKeys,
  signPayload,
  verifyPayload,
} from "../../kernel-lib/src/security/index.js";

const key = new SigningKey(generateSigningKey(), "test");
const other = new SigningKey(generateSigningKey(), "test");

describe("signPayload / verifyPayload", () => {
  it("accepts what was signed with the same key and returns the exact body", () => {
    const signed = signPayload({ a: 1, b: "x" }, key);
    const v = verifyPayload(JSON.parse(JSON.stringify(signed)), [key]);
    expect(v).toMatchObject({ ok: true, body: '{"a":1,"b":"x"}', keyId: key.id });
  });

  it("refuses an unsigned request, another key, a changed body, a changed expiry and an expired one with 401", () => {
    const signed = signPayload('{"a":1}', key);
    const cases: unknown[] = [
      { a: 1 },
      signPayload('{"a":1}', other),
      { ...signed, body: '{"a":2}' },
      { ...signed, expiresMs: signed.expiresMs + 1 },
      { ...signed, signature: "00".repeat(32) },
      { ...signed, signature: "zz" },
      signPayload('{"a":1}', key, { ttlMs: -1 }),
    ];
    for (const c of cases) expect(verifyPayload(c, [key])).toMatchObject({ ok: false, statusCode: 401 });
    expect(verifyPayload(signed, [])).toMatchObject({ ok: false, reason: expect.stringContaining("no signing key") as unknown });
  });

  it("accepts the previous key during a rotation", () => {
    const signed = signPayload("{}", other);
    expect(verifyPayload(signed, [key, other]).ok).toBe(true);
  });

  it("never shows the key in inspect or JSON", () => {
    const text = generateSigningKey();
    const k = new SigningKey(text, "test");
    expect(inspect({ k }, { depth: null })).not.toContain(text);
    expect(JSON.stringify({ k })).not.toContain(text);
    expect(() => new SigningKey("short", "here")).toThrow(/too short/);
  });
});

describe("key loading", () => {
  it("reads the runtime's keys from its environment, current first", () => {
    const a = generateSigningKey();
    const b = generateSigningKey();
    const keys = runtimeSigningKeys({ TSWREN_SIGNING_KEY: a, TSWREN_SIGNING_KEY_PREVIOUS: b });
    expect(keys.map((k) => k.reveal())).toEqual([a, b]);
    expect(runtimeSigningKeys({})).toEqual([]);
  });

  it("generates a key file 0600 in a 0700 folder when none is configured, and finds it next time", () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), "tswren-keys-")), "keys");
    const env = { TSWREN_KEYS_DIR: dir };
    expect(() => clientSigningKey("knative", {}, env)).toThrow(expect.objectContaining({ code: "TSWREN_SIGNING_KEY" }));
    const made = ensureSigningKey("knative", {}, env);
    expect(made.created).toBe(true);
    expect(made.source).toBe(path.join(dir, "knative.key"));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(made.source).mode & 0o777).toBe(0o600);
    expect(readFileSync(made.source, "utf8").trim()).toBe(made.key.reveal());
    expect(clientSigningKey("knative", {}, env).id).toBe(made.key.id);
    expect(ensureSigningKey("knative", {}, env).created).toBe(false);
    const configured = generateSigningKey();
    expect(clientSigningKey("knative", { signing_key: configured }, env).reveal()).toBe(configured);
  });
});
