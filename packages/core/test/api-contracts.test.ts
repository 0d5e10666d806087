import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OpenAIImageGenerationRequest, openAIImageRequestToGeneration, parsePreferWait, toOpenAIError } from "@lucid/contracts";

describe("API header and OpenAI mapping rules", () => {
  it("reads Prefer: wait=N among other preferences and refuses malformed or too long waits", () => {
    assert.deepEqual(parsePreferWait(null), { ok: true, wait: null });
    assert.deepEqual(parsePreferWait("respond-async"), { ok: true, wait: null });
    assert.deepEqual(parsePreferWait("respond-async, wait=10"), { ok: true, wait: 10 });
    assert.deepEqual(parsePreferWait("WAIT = 0"), { ok: true, wait: 0 });
    assert.deepEqual(parsePreferWait("wait=60"), { ok: true, wait: 60 });
    assert.deepEqual(parsePreferWait("wait=61"), { ok: false, message: "wait must be at most 60 seconds" });
    for (const bad of ["wait=", "wait=-1", "wait=1.5", "wait=soon"]) assert.equal(parsePreferWait(bad).ok, false, bad);
  });

  it("maps OpenAI image requests onto Lucid generations, whatever model they name", () => {
    const parse = (body: unknown) => openAIImageRequestToGeneration(OpenAIImageGenerationRequest.parse(body));
    assert.deepEqual(parse({ prompt: "a fox", model: "dall-e-2", n: 2, size: "256x256", response_format: "url", quality: "hd", style: "vivid", user: "u1" }), {
      prompt: "a fox",
      width: 256,
      height: 256,
      n: 2,
    });
    assert.deepEqual(parse({ prompt: "a fox", size: "640x384", model: null, n: null }), { prompt: "a fox", width: 640, height: 384, n: 1 });
    assert.deepEqual(parse({ prompt: "a fox" }), { prompt: "a fox", n: 1 }, "no size: Lucid's default");
    for (const [body, param] of [
      [{ prompt: "x", size: "1792x1024" }, "size"],
      [{ prompt: "x", size: "100x100" }, "size"],
      [{ prompt: "x", n: 5 }, "n"],
      [{ prompt: "x", response_format: "png" }, "response_format"],
      [{ prompt: "x", stream: true }, "stream"],
      [{ n: 1 }, "prompt"],
    ] as const) {
      const r = OpenAIImageGenerationRequest.safeParse(body);
      assert.equal(r.success, false, JSON.stringify(body));
      assert.deepEqual(r.error!.issues.map((i) => i.path.join(".")), [param]);
    }
  });

  it("answers errors the way OpenAI does, with retries off where a retry would generate again", () => {
    const bad = toOpenAIError({ code: "validation_failed", status: 400, message: "size is bad", fields: [{ field: "size", message: "is bad" }] });
    assert.deepEqual(bad, { status: 400, retry: false, body: { error: { message: "size is bad", type: "invalid_request_error", param: "size", code: "invalid_value" } } });
    assert.deepEqual(toOpenAIError({ code: "invalid_api_key", status: 401, message: "nope" }).body.error.code, "invalid_api_key");
    const quota = toOpenAIError({ code: "insufficient_credits", status: 402, message: "Not enough credits" });
    assert.deepEqual([quota.status, quota.body.error.type, quota.body.error.code, quota.retry], [429, "insufficient_quota", "insufficient_quota", false]);
    assert.deepEqual(toOpenAIError({ code: "service_unavailable", status: 503, message: "queue down" }).retry, true);
    assert.deepEqual(toOpenAIError({ code: "timeout", status: 504, message: "slow" }).body.error.type, "server_error");
  });
});
