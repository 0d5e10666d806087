import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { claimJob, completeJob, generationUrls, getJob, publishImage, signUp, submitGeneration, toGeneration } from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

describe("image URLs in the generation object", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({ LUCID_PUBLIC_URL: "https://lucid.example" });
  });
  after(async () => t?.stop());

  it("a published image gets a stable public URL; a private one a signed storage URL valid for one hour", async () => {
    const p = t.platform;
    const { workspaceId } = await signUp(p, { email: "urls@example.com", password: "password123" });
    const job = await submitGeneration(p, { workspaceId, source: "api" }, { prompt: "two boats", width: 64, height: 64, steps: 1, n: 2 });
    assert.ok((await claimJob(p, job.id, "w1", 60_000)).claimed);
    const stored = [0, 1].map((i) => ({ storageKey: `${workspaceId}/${job.id}/${i}.png`, thumbnailKey: `${workspaceId}/${job.id}/${i}.webp`, width: 64, height: 64, seed: i, contentType: "image/png" }));
    assert.equal(await completeJob(p, job.id, "w1", stored), true);
    const [first, second] = (await getJob(p, workspaceId, job.id)).images;
    await publishImage(p, workspaceId, first!.id);

    const generation = await toGeneration(await getJob(p, workspaceId, job.id), generationUrls(p));
    const [published, unpublished] = generation.images;
    assert.equal(published!.url, `https://lucid.example/images/${first!.id}`);
    assert.equal(published!.thumbnail_url, `https://lucid.example/images/${first!.id}/thumbnail`);
    const signed = new URL(unpublished!.url);
    assert.equal(signed.pathname.endsWith(`/${workspaceId}/${job.id}/1.png`), true, unpublished!.url);
    assert.equal(signed.searchParams.get("X-Amz-Expires"), "3600");
    assert.equal(new URL(unpublished!.thumbnail_url!).searchParams.get("X-Amz-Expires"), "3600");
    assert.equal(unpublished!.id, second!.id);
  });
});
