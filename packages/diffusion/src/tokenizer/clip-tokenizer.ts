// CLIP byte-level BPE tokenizer, as openai/CLIP's simple_tokenizer.py and
// Hugging Face's CLIPTokenizer, reading a model's `tokenizer/` folder.
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { cleanClipText } from "./text-cleanup.ts";

export const START_OF_TEXT = "<|startoftext|>";
export const END_OF_TEXT = "<|endoftext|>";

/** CLIP's pre-tokenisation pattern (simple_tokenizer.py), over lower-cased text. */
const WORD_PATTERN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\p{White_Space}\p{L}\p{N}]+/giu;

/** Hugging Face CLIPTokenizer reads at most this many merges (vocab 49152 - 256 bytes - 2 specials). */
const MAX_MERGES = 49152 - 256 - 2;
const BPE_CACHE_LIMIT = 100_000;

export interface ClipEncoding {
  /** `maxLength` ids: start token, up to `maxLength - 2` prompt tokens, end token, padding. */
  ids: number[];
  /** True when the prompt had more than `maxLength - 2` tokens and was cut. */
  truncated: boolean;
  /** Prompt tokens before truncation (no start/end token). */
  tokenCount: number;
}

export interface ClipTokenizer {
  /** Raw BPE ids of a prompt, no start/end token, no truncation. */
  encode(text: string): number[];
  /** The `maxLength` ids a CLIP text encoder takes. */
  encodeForModel(text: string): number[];
  encodeForModelWithInfo(text: string): ClipEncoding;
  /** Text of BPE ids, as CLIP decodes them ('</w>' becomes a space). */
  decode(ids: readonly number[]): string;
  readonly maxLength: number;
  readonly padTokenId: number;
  readonly startTokenId: number;
  readonly endTokenId: number;
}

export interface ClipTokenizerFiles {
  /** vocab.json contents: token string to id. */
  vocab: Record<string, number>;
  /** merges.txt contents (an optional `#version` line, then one merge a line). */
  merges: string;
  /** Padding token string (default "<|endoftext|>"). */
  padToken?: string;
  /** Sequence length the text encoder takes (default 77). */
  maxLength?: number;
}

/** GPT-2/CLIP reversible map from bytes to printable unicode characters. */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(printable.includes(b) ? b : 256 + extra++);
  }
  return table;
}

const BYTE_ENCODER = bytesToUnicode();
const utf8 = new TextEncoder();

class BpeClipTokenizer implements ClipTokenizer {
  readonly maxLength: number;
  readonly padTokenId: number;
  readonly startTokenId: number;
  readonly endTokenId: number;
  private readonly encoder: Map<string, number>;
  private readonly decoder: Map<number, string>;
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>([
    [START_OF_TEXT, [START_OF_TEXT]],
    [END_OF_TEXT, [END_OF_TEXT]],
  ]);

  constructor(files: ClipTokenizerFiles) {
    this.encoder = new Map(Object.entries(files.vocab));
    this.decoder = new Map([...this.encoder].map(([token, id]) => [id, token]));
    const lines = files.merges.split("\n").map((line) => line.replace(/\r$/, ""));
    const mergeLines = (lines[0]?.startsWith("#version") ? lines.slice(1) : lines)
      .filter((line) => line.length > 0)
      .slice(0, MAX_MERGES);
    mergeLines.forEach((line, rank) => this.ranks.set(line, rank));
    this.startTokenId = this.requireId(START_OF_TEXT);
    this.endTokenId = this.requireId(END_OF_TEXT);
    this.padTokenId = this.requireId(files.padToken ?? END_OF_TEXT);
    this.maxLength = files.maxLength ?? 77;
    if (this.maxLength < 2) throw new Error(`CLIP tokenizer maxLength ${this.maxLength} is below 2`);
  }

  private requireId(token: string): number {
    const id = this.encoder.get(token);
    if (id === undefined) throw new Error(`CLIP vocabulary has no token ${JSON.stringify(token)}`);
    return id;
  }

  /** Merges the byte-level symbols of one pre-token, lowest merge rank first. */
  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    let word = [...token];
    word[word.length - 1] += "</w>";
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    // Bounded: a long-running worker sees an open-ended stream of words.
    if (this.cache.size >= BPE_CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const match of cleanClipText(text).matchAll(WORD_PATTERN)) {
      let token = "";
      for (const byte of utf8.encode(match[0])) token += BYTE_ENCODER[byte];
      for (const piece of this.bpe(token)) {
        // Every byte symbol is in the vocabulary; unknown pieces fall back to CLIP's unk, <|endoftext|>.
        ids.push(this.encoder.get(piece) ?? this.endTokenId);
      }
    }
    return ids;
  }

  encodeForModelWithInfo(text: string): ClipEncoding {
    const tokens = this.encode(text);
    const room = this.maxLength - 2;
    const ids = [this.startTokenId, ...tokens.slice(0, room), this.endTokenId];
    while (ids.length < this.maxLength) ids.push(this.padTokenId);
    return { ids, truncated: tokens.length > room, tokenCount: tokens.length };
  }

  encodeForModel(text: string): number[] {
    return this.encodeForModelWithInfo(text).ids;
  }

  decode(ids: readonly number[]): string {
    const byteDecoder = new Map(BYTE_ENCODER.map((ch, byte) => [ch, byte]));
    const symbols = ids.map((id) => this.decoder.get(id) ?? "").join("");
    const bytes = [...symbols.replaceAll("</w>", " ")].map((ch) =>
      ch === " " ? 0x20 : (byteDecoder.get(ch) ?? 0x3f),
    );
    return new TextDecoder().decode(Uint8Array.from(bytes));
  }
}

export function createClipTokenizer(files: ClipTokenizerFiles): ClipTokenizer {
  return new BpeClipTokenizer(files);
}

/** A token entry of tokenizer_config.json / special_tokens_map.json: a string or an AddedToken object. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { content?: unknown }).content === "string") {
    return (value as { content: string }).content;
  }
  return undefined;
}

interface TokenizerSettings {
  padToken?: string;
  maxLength?: number;
}

/** Pad token and length from the folder's configs; special_tokens_map.json wins over tokenizer_config.json like in transformers. */
function readSettings(configText: string | undefined, specialText: string | undefined): TokenizerSettings {
  const config = configText ? (JSON.parse(configText) as Record<string, unknown>) : {};
  const special = specialText ? (JSON.parse(specialText) as Record<string, unknown>) : {};
  const padToken = tokenContent(special.pad_token) ?? tokenContent(config.pad_token);
  const length = config.model_max_length;
  // Tokenizers without a limit store a huge sentinel (1e30): keep CLIP's 77 then.
  const maxLength = typeof length === "number" && length >= 2 && length <= 4096 ? length : undefined;
  return { padToken, maxLength };
}

const FILES = ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"] as const;

function fromFolderTexts(dir: string, texts: (string | undefined)[]): ClipTokenizer {
  const [vocab, merges, config, special] = texts;
  if (vocab === undefined || merges === undefined) {
    throw new Error(`CLIP tokenizer folder ${dir} needs vocab.json and merges.txt`);
  }
  return createClipTokenizer({
    vocab: JSON.parse(vocab) as Record<string, number>,
    merges,
    ...readSettings(config, special),
  });
}

/** Loads the tokenizer of a model's `tokenizer/` folder (vocab.json, merges.txt, optional configs). */
export async function loadClipTokenizer(dir: string): Promise<ClipTokenizer> {
  const texts = await Promise.all(
    FILES.map((name) => {
      const path = join(dir, name);
      return existsSync(path) ? readFile(path, "utf8") : Promise.resolve(undefined);
    }),
  );
  return fromFolderTexts(dir, texts);
}

export function loadClipTokenizerSync(dir: string): ClipTokenizer {
  return fromFolderTexts(
    dir,
    FILES.map((name) => {
      const path = join(dir, name);
      return existsSync(path) ? readFileSync(path, "utf8") : undefined;
    }),
  );
}
