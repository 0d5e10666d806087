// Behaviour of the CLIP tokenizer beyond the reference sample: folder loading,
// pad tokens of SD 1.x / 2.x configs, truncation, ftfy-style clean-up.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  bundledClipVocabularyDir,
  cleanClipText,
  fixText,
  loadClipTokenizer,
  loadClipTokenizerSync,
} from "../src/tokenizer/index.ts";

function modelTokenizerFolder(configs: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "clip-tokenizer-"));
  for (const name of ["vocab.json", "merges.txt"]) copyFileSync(join(bundledClipVocabularyDir, name), join(dir, name));
  for (const [name, value] of Object.entries(configs)) writeFileSync(join(dir, name), JSON.stringify(value));
  return dir;
}

const sd1 = loadClipTokenizerSync(bundledClipVocabularyDir);

describe("loading a model's tokenizer folder", () => {
  it("defaults to SD 1.x: 77 ids padded with <|endoftext|>", async () => {
    const tokenizer = await loadClipTokenizer(bundledClipVocabularyDir);
    assert.equal(tokenizer.maxLength, 77);
    assert.equal(tokenizer.padTokenId, 49407);
    assert.deepEqual(tokenizer.encodeForModel("cat"), [49406, 2368, ...new Array(75).fill(49407)]);
  });

  it("pads with id 0 when tokenizer_config.json names '!' (SD 2.x)", async () => {
    const dir = modelTokenizerFolder({
      "tokenizer_config.json": { pad_token: "!", model_max_length: 77 },
    });
    const tokenizer = await loadClipTokenizer(dir);
    assert.equal(tokenizer.padTokenId, 0);
    assert.deepEqual(tokenizer.encodeForModel("cat"), [49406, 2368, 49407, ...new Array(74).fill(0)]);
  });

  it("reads AddedToken objects, special_tokens_map.json winning over tokenizer_config.json", () => {
    const dir = modelTokenizerFolder({
      "tokenizer_config.json": { pad_token: { __type: "AddedToken", content: "<|endoftext|>" }, model_max_length: 77 },
      "special_tokens_map.json": { pad_token: { content: "!", lstrip: false } },
    });
    assert.equal(loadClipTokenizerSync(dir).padTokenId, 0);
  });

  it("ignores transformers' 'no limit' sentinel for model_max_length", () => {
    const dir = modelTokenizerFolder({ "tokenizer_config.json": { model_max_length: 1e30 } });
    assert.equal(loadClipTokenizerSync(dir).maxLength, 77);
  });

  it("fails clearly when vocab.json or merges.txt is missing", async () => {
    const empty = mkdtempSync(join(tmpdir(), "clip-empty-"));
    await assert.rejects(loadClipTokenizer(empty), /needs vocab\.json and merges\.txt/);
  });
});

describe("truncation to the text encoder's 77 positions", () => {
  it("keeps the first 75 prompt tokens, ends with <|endoftext|> and reports the cut", () => {
    const prompt = Array.from({ length: 100 }, () => "cat").join(" ");
    const encoding = sd1.encodeForModelWithInfo(prompt);
    assert.equal(encoding.tokenCount, 100);
    assert.equal(encoding.truncated, true);
    assert.equal(encoding.ids.length, 77);
    assert.deepEqual(encoding.ids, [49406, ...new Array(75).fill(2368), 49407]);
  });

  it("a prompt of exactly 75 tokens is not truncated", () => {
    const encoding = sd1.encodeForModelWithInfo(Array.from({ length: 75 }, () => "cat").join(" "));
    assert.equal(encoding.truncated, false);
    assert.equal(encoding.ids.at(-1), 49407);
  });

  it("an empty prompt is start, end, then padding", () => {
    assert.deepEqual(sd1.encodeForModel(""), [49406, ...new Array(76).fill(49407)]);
  });
});

describe("clean-up before BPE (ftfy, HTML, whitespace, case)", () => {
  it("unescapes HTML twice like CLIP", () => {
    assert.equal(cleanClipText("Tom &amp;amp; Jerry &lt;3"), "tom & jerry <3");
    assert.deepEqual(sd1.encode("rock &amp; roll"), sd1.encode("rock & roll"));
  });

  it("straightens curly quotes so contractions split the same way", () => {
    assert.deepEqual(sd1.encode("children\u2019s \u201cbooks\u201d"), sd1.encode("children's \"books\""));
  });

  it("undoes UTF-8 read as Windows-1252 (mojibake)", () => {
    assert.equal(fixText("caf\u00c3\u00a9 cr\u00c3\u00a8me"), "caf\u00e9 cr\u00e8me");
    assert.equal(fixText("it\u00e2\u20ac\u2122s"), "it's");
  });

  it("leaves legitimate accented text alone", () => {
    assert.equal(fixText("Gr\u00f6\u00dfe \u00bb sch\u00f6n \u00ab"), "Gr\u00f6\u00dfe \u00bb sch\u00f6n \u00ab");
  });

  it("splits Latin ligatures, narrows full-width forms and composes NFD", () => {
    assert.equal(fixText("\ufb01ne \uff21\uff22\uff23\u3000x"), "fine ABC x");
    assert.deepEqual(sd1.encode("cafe\u0301"), sd1.encode("caf\u00e9"));
  });

  it("drops control characters and terminal escapes, collapses Unicode whitespace", () => {
    assert.equal(cleanClipText("\x1b[31mred\x1b[0m\u0007 \u2003 apple\ufeff\n"), "red apple");
  });

  it("decodes ids back to the cleaned words", () => {
    assert.equal(sd1.decode(sd1.encode("A Red   Apple!")), "a red apple ! ");
  });
});
