import { expect, test } from "@playwright/test";
import OpenAI from "openai";
import sharp from "sharp";
import { signUp, uniqueEmail } from "./helpers.ts";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function expectPng(bytes: Buffer, width: number, height: number) {
  expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  const meta = await sharp(bytes).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(["png", width, height]);
}

test("the official OpenAI client generates images through Lucid unchanged", async ({ page, baseURL }) => {
  await signUp(page, uniqueEmail("openai"));
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name").fill("openai-client");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent())!.trim();

  const client = new OpenAI({ apiKey: key, baseURL: `${baseURL}/api/v1` });
  const started = Math.floor(Date.now() / 1000);

  const b64 = await client.images.generate({ prompt: "a lighthouse at dawn", n: 1, size: "256x256", response_format: "b64_json" });
  expect(b64.created).toBeGreaterThanOrEqual(started - 1);
  expect(b64.data).toHaveLength(1);
  await expectPng(Buffer.from(b64.data![0]!.b64_json!, "base64"), 256, 256);

  const byUrl = await client.images.generate({ prompt: "a lighthouse at dusk", n: 1, size: "256x256", response_format: "url" });
  expect(byUrl.data).toHaveLength(1);
  const res = await fetch(byUrl.data![0]!.url!);
  expect(res.status).toBe(200);
  await expectPng(Buffer.from(await res.arrayBuffer()), 256, 256);

  // The two images are ordinary Lucid generations of the served model, charged one credit each.
  const list = await (await fetch(`${baseURL}/api/v1/generations?status=succeeded`, { headers: { authorization: `Bearer ${key}` } })).json();
  expect(list.data.map((g: { request: { prompt: string; width: number } }) => [g.request.prompt, g.request.width])).toEqual([
    ["a lighthouse at dusk", 256],
    ["a lighthouse at dawn", 256],
  ]);
  expect(list.data.map((g: { credits_charged: number }) => g.credits_charged)).toEqual([1, 1]);

  // OpenAI's errors, as the client knows them.
  const badSize = await client.images.generate({ prompt: "too wide", size: "1792x1024" }).catch((e: unknown) => e);
  expect(badSize).toBeInstanceOf(OpenAI.BadRequestError);
  expect((badSize as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("size");

  const stranger = new OpenAI({ apiKey: "lucid_sk_not_a_real_key", baseURL: `${baseURL}/api/v1`, maxRetries: 0 });
  const refused = await stranger.images.generate({ prompt: "anything" }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
  expect((refused as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe("invalid_api_key");
});
