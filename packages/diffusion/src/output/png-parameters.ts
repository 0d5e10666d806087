// Generation parameters inside the PNG, in the de-facto AUTOMATIC1111 format
// (a tEXt chunk with keyword "parameters"), which image browsers, civitai and
// the A1111/ComfyUI loaders read back.
import CRC32 from "crc-32";

export interface GenerationParameters {
  prompt: string;
  negativePrompt?: string;
  steps: number;
  /** Display name of the scheduler, e.g. "Euler", "DPM++ 2M Karras". */
  sampler: string;
  guidance: number;
  seed: number;
  width: number;
  height: number;
  model: string;
}

const SAMPLER_NAMES: Record<string, string> = {
  euler: "Euler",
  euler_ancestral: "Euler a",
  ddim: "DDIM",
  lcm: "LCM",
  dpmpp_2m: "DPM++ 2M",
  dpmpp_2m_karras: "DPM++ 2M Karras",
  pndm: "PLMS",
};

/** A1111's sampler label for one of our scheduler names. */
export function samplerLabel(scheduler: string): string {
  return SAMPLER_NAMES[scheduler] ?? scheduler;
}

export function formatParameters(p: GenerationParameters): string {
  const lines = [p.prompt];
  if (p.negativePrompt) lines.push(`Negative prompt: ${p.negativePrompt}`);
  lines.push(
    `Steps: ${p.steps}, Sampler: ${p.sampler}, CFG scale: ${p.guidance}, Seed: ${p.seed}, Size: ${p.width}x${p.height}, Model: ${p.model}`,
  );
  return lines.join("\n");
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeInt32BE(CRC32.buf(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * Returns the PNG with a text chunk added right after IHDR. Uses iTXt (UTF-8)
 * when the text is not Latin-1, as prompts often are not.
 */
export function withPngText(png: Uint8Array, keyword: string, text: string): Buffer {
  const buf = Buffer.from(png);
  if (!buf.subarray(0, 8).equals(SIGNATURE) || buf.toString("latin1", 12, 16) !== "IHDR") throw new Error("not a PNG");
  const ihdrEnd = 8 + 12 + buf.readUInt32BE(8);
  const latin1 = /^[\x00-\xff]*$/.test(text);
  const data = latin1
    ? Buffer.concat([Buffer.from(keyword, "latin1"), Buffer.from([0]), Buffer.from(text, "latin1")])
    : // keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, UTF-8 text
      Buffer.concat([Buffer.from(keyword, "latin1"), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, "utf8")]);
  return Buffer.concat([buf.subarray(0, ihdrEnd), chunk(latin1 ? "tEXt" : "iTXt", data), buf.subarray(ihdrEnd)]);
}

/** Reads text chunks back (tEXt and uncompressed iTXt): keyword → text. Throws on a chunk whose CRC is wrong. */
export function readPngText(png: Uint8Array): Record<string, string> {
  const buf = Buffer.from(png);
  const out: Record<string, string> = {};
  for (let at = 8; at + 12 <= buf.length; ) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString("latin1", at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (buf.readInt32BE(at + 8 + len) !== CRC32.buf(buf.subarray(at + 4, at + 8 + len))) throw new Error(`bad CRC in ${type} chunk`);
    const nul = data.indexOf(0);
    if (type === "tEXt" && nul > 0) out[data.toString("latin1", 0, nul)] = data.toString("latin1", nul + 1);
    if (type === "iTXt" && nul > 0 && data[nul + 1] === 0) {
      const lang = data.indexOf(0, nul + 3);
      const translated = data.indexOf(0, lang + 1);
      out[data.toString("latin1", 0, nul)] = data.toString("utf8", translated + 1);
    }
    if (type === "IEND") break;
    at += 12 + len;
  }
  return out;
}
