// Every entry of the reference CLIP token sample (openai/CLIP with ftfy) must match.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { bundledClipVocabularyDir, createClipTokenizer } from "../src/tokenizer/index.ts";

interface Entry {
  text: string;
  ids: number[];
  input_ids_pad_eos: number[];
  input_ids_pad_zero: number[];
  truncated: boolean;
  n_ids: number;
  decoded: string;
}

const sample = JSON.parse(
  readFileSync(new URL("./conformance/clip-tokens-sample.json", import.meta.url), "utf8"),
) as { entries: Entry[] };
const vocab = JSON.parse(readFileSync(join(bundledClipVocabularyDir, "vocab.json"), "utf8")) as Record<string, number>;
const merges = readFileSync(join(bundledClipVocabularyDir, "merges.txt"), "utf8");
const sd1 = createClipTokenizer({ vocab, merges });
const sd2 = createClipTokenizer({ vocab, merges, padToken: "!" });

describe("CLIP tokenizer matches openai/CLIP on the reference sample", () => {
  for (const [index, entry] of sample.entries.entries()) {
    it(`entry ${index}: ${JSON.stringify(entry.text).slice(0, 60)}`, () => {
      assert.deepEqual(sd1.encode(entry.text), entry.ids);
      const sd1Encoding = sd1.encodeForModelWithInfo(entry.text);
      assert.deepEqual(sd1Encoding.ids, entry.input_ids_pad_eos);
      assert.equal(sd1Encoding.truncated, entry.truncated);
      assert.equal(sd1Encoding.tokenCount, entry.n_ids);
      assert.deepEqual(sd2.encodeForModel(entry.text), entry.input_ids_pad_zero);
    });
  }
});
