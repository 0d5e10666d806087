import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AppError, SIGN_IN_LIMITS, signInProtected, signUp } from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

const is = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

describe("sign-in protection (rate-limiter-flexible on PostgreSQL)", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform();
  });
  after(async () => t?.stop());

  it("locks an account after 5 failures, even for the right password, with the wait in minutes", async () => {
    const p = t.platform;
    await signUp(p, { email: "lock@example.com", password: "right password" });
    for (let i = 0; i < SIGN_IN_LIMITS.perAccount.failures; i++) {
      await assert.rejects(signInProtected(p, { email: "lock@example.com", password: `wrong ${i}` }, { ip: `10.0.0.${i}` }), is("invalid_credentials"));
    }
    const err = await signInProtected(p, { email: "LOCK@example.com", password: "right password" }, { ip: "10.0.1.1" }).catch((e) => e);
    assert.ok(is("too_many_attempts")(err), String(err));
    assert.equal(err.message, "Too many sign-in attempts. Try again in 15 minutes.");
    assert.equal(err.status, 429);
    // Other accounts are not affected.
    await signUp(p, { email: "free@example.com", password: "right password" });
    assert.equal((await signInProtected(p, { email: "free@example.com", password: "right password" }, { ip: "10.0.1.1" })).email, "free@example.com");
  });

  it("answers an unknown email exactly like a known one, lockout included", async () => {
    const p = t.platform;
    const known: string[] = [];
    const unknown: string[] = [];
    await signUp(p, { email: "real@example.com", password: "right password" });
    for (let i = 0; i <= SIGN_IN_LIMITS.perAccount.failures; i++) {
      known.push(await signInProtected(p, { email: "real@example.com", password: "nope" }, { ip: `10.1.0.${i}` }).catch((e) => e.message));
      unknown.push(await signInProtected(p, { email: "nobody@example.com", password: "nope" }, { ip: `10.2.0.${i}` }).catch((e) => e.message));
    }
    assert.deepEqual(known, unknown);
    assert.match(known.at(-1)!, /^Too many sign-in attempts/);
  });

  it("a success clears the account's failures", async () => {
    const p = t.platform;
    await signUp(p, { email: "oops@example.com", password: "right password" });
    const fail = () => assert.rejects(signInProtected(p, { email: "oops@example.com", password: "typo" }, { ip: "10.3.0.1" }), is("invalid_credentials"));
    for (let i = 0; i < SIGN_IN_LIMITS.perAccount.failures - 1; i++) await fail();
    await signInProtected(p, { email: "oops@example.com", password: "right password" }, { ip: "10.3.0.1" });
    for (let i = 0; i < SIGN_IN_LIMITS.perAccount.failures - 1; i++) await fail();
    assert.equal((await signInProtected(p, { email: "oops@example.com", password: "right password" }, { ip: "10.3.0.1" })).email, "oops@example.com");
  });

  it("locks an IP address after 20 failures across accounts; other addresses still sign in", async () => {
    const p = t.platform;
    await signUp(p, { email: "victim@example.com", password: "right password" });
    for (let i = 0; i < SIGN_IN_LIMITS.perIp.failures; i++) {
      await assert.rejects(signInProtected(p, { email: `spray${i}@example.com`, password: "guess" }, { ip: "203.0.113.9" }), is("invalid_credentials"));
    }
    await assert.rejects(signInProtected(p, { email: "victim@example.com", password: "right password" }, { ip: "203.0.113.9" }), is("too_many_attempts"));
    assert.equal((await signInProtected(p, { email: "victim@example.com", password: "right password" }, { ip: "198.51.100.7" })).email, "victim@example.com");
  });

  it("counts failures in the database, so every instance sees them", async () => {
    const rows = await t.platform.db.$queryRawUnsafe<Array<{ key: string; points: number }>>(
      `SELECT key, points FROM rate_limit_counters WHERE key = 'signin_fail_ip:203.0.113.9'`,
    );
    assert.deepEqual(rows, [{ key: "signin_fail_ip:203.0.113.9", points: SIGN_IN_LIMITS.perIp.failures }]);
  });
});
