import { describe, it } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { formatParameters, readPngText, samplerLabel, withPngText } from "../src/output/png-parameters.ts";

const png = () => sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer();

describe("PNG generation parameters (A1111 format)", () => {
  it("formats parameters the way AUTOMATIC1111 writes them", () => {
    const text = formatParameters({
      prompt: "a lighthouse at dawn",
      negativePrompt: "blurry",
      steps: 20,
      sampler: samplerLabel("euler_ancestral"),
      guidance: 7.5,
      seed: 42,
      width: 512,
      height: 768,
      model: "sd-turbo",
    });
    assert.equal(text, "a lighthouse at dawn\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x768, Model: sd-turbo");
  });

  it("embeds a text chunk that decoders accept and that reads back, in Latin-1 and UTF-8", async () => {
    for (const text of ["a cat\nSteps: 4", "un café ☕ à l'aube\nSteps: 4"]) {
      const out = withPngText(await png(), "parameters", text);
      assert.deepEqual(readPngText(out), { parameters: text });
      // readPngText checked every chunk's CRC; the image itself still decodes unchanged.
      const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height, data[0], data[1], data[2]], [8, 8, 10, 20, 30]);
    }
  });

  it("notices a corrupted chunk", async () => {
    const out = withPngText(await png(), "parameters", "Steps: 4");
    out[40] = out[40]! ^ 0xff; // inside the text chunk, after IHDR
    assert.throws(() => readPngText(out), /bad CRC/);
  });

  it("refuses something that is not a PNG", () => {
    assert.throws(() => withPngText(Buffer.from("GIF89a"), "parameters", "x"), /not a PNG/);
  });
});
