// CLIP's prompt clean-up: `ftfy.fix_text`, `html.unescape` twice, whitespace
// collapse, lower-case (openai/CLIP simple_tokenizer.py). The ftfy part is a
// port of the fixers ftfy applies by default, with one simplification: the
// mojibake repair only undoes whole segments of UTF-8 that were decoded as
// Latin-1 / Windows-1252, detected with a narrow heuristic, where ftfy
// weighs many encodings with a statistical "badness" score.
import { decodeHTMLStrict } from "entities";
import { pythonHtmlUnescape } from "./html-unescape.ts";

/** Windows-1252 bytes 0x80..0x9f; undefined bytes map to themselves ("sloppy"). */
const CP1252_HIGH =
  "\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f" +
  "\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178";
const CP1252_ENCODE = new Map<string, number>([...CP1252_HIGH].map((c, i) => [c, 0x80 + i]));

/** Unicode White_Space, which the `regex` module's `\s` matches (JS `\s` differs: it has U+FEFF). */
const WHITESPACE_RUN = /\p{White_Space}+/gu;

const LIGATURES: Record<string, string> = {
  "\u0132": "IJ", "\u0133": "ij", "\u0149": "\u02bcn", "\u01c4": "D\u017d", "\u01c5": "D\u017e",
  "\u01c6": "d\u017e", "\u01c7": "LJ", "\u01c8": "Lj", "\u01c9": "lj", "\u01ca": "NJ",
  "\u01cb": "Nj", "\u01cc": "nj", "\u01f1": "DZ", "\u01f2": "Dz", "\u01f3": "dz",
  "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
  "\ufb05": "\u017ft", "\ufb06": "st",
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join("")}]`, "g");

const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;
const ANSI_ESCAPE = /\x1b\[((?:\d|;)*)([a-zA-Z])/g;
const C1_CONTROL = /[\x80-\x9f]/g;
const FULLWIDTH = /[\u3000\uff01-\uffef]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const CONTROL_CHARS = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
/** Typical traces of UTF-8 read as Latin-1 / Windows-1252 ("Ã©", "â€™", "Â "). */
const MOJIBAKE_HINT = new RegExp(`[\u00c2-\u00f4][\u00a0-\u00bf${CP1252_HIGH}]`);

/** ftfy's HTML step: only `&...;` forms, plus upper-cased names like `&EACUTE;`. */
function ftfyUnescapeHtml(text: string): string {
  return text.replace(FTFY_ENTITY, (entity) => {
    if (entity.startsWith("&#")) {
      const decoded = pythonHtmlUnescape(entity);
      return decoded.includes(";") ? entity : decoded;
    }
    const decoded = decodeHTMLStrict(entity);
    if (decoded !== entity) return decoded;
    const lower = entity.toLowerCase();
    if (entity === entity.toUpperCase() && pythonHtmlUnescape(entity) === entity) {
      const lowered = decodeHTMLStrict(lower);
      if (lowered !== lower) return lowered.toUpperCase();
    }
    return entity;
  });
}

function encodeSingleByte(text: string, cp1252: boolean): Uint8Array | null {
  const bytes: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    const mapped = cp1252 ? CP1252_ENCODE.get(ch) : undefined;
    if (mapped !== undefined) bytes.push(mapped);
    else if (code < 0x80 || (code >= 0xa0 && code <= 0xff) || (!cp1252 && code <= 0xff)) bytes.push(code);
    else return null;
  }
  return Uint8Array.from(bytes);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function fixEncoding(text: string): string {
  // Re-decoding can reveal another layer of mojibake: repeat until stable.
  for (;;) {
    if (!MOJIBAKE_HINT.test(text)) return text;
    let fixed: string | null = null;
    for (const cp1252 of [false, true]) {
      const bytes = encodeSingleByte(text, cp1252);
      if (!bytes) continue;
      try {
        fixed = strictUtf8.decode(bytes);
        break;
      } catch {
        // Not UTF-8 through this encoding: try the next.
      }
    }
    if (fixed === null || fixed === text) return text;
    text = fixed;
  }
}

function fixSegment(segment: string, unescapeHtml: boolean): string {
  let text = segment;
  for (;;) {
    const original = text;
    if (unescapeHtml) text = ftfyUnescapeHtml(text);
    text = fixEncoding(text);
    text = text.replace(C1_CONTROL, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
    text = text.replace(LIGATURE_RE, (c) => LIGATURES[c]!);
    text = text.replace(FULLWIDTH, (c) => (c === "\u3000" ? " " : c.normalize("NFKC")));
    text = text.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
    text = text.replace(/\r\n|[\r\u2028\u2029\x85]/g, "\n");
    text = text.replace(LONE_SURROGATE, "\ufffd");
    text = text.replace(ANSI_ESCAPE, "");
    text = text.replace(CONTROL_CHARS, "");
    text = text.normalize("NFC");
    if (text === original) return text;
  }
}

/** `ftfy.fix_text` with its default configuration (see the module note). */
export function fixText(text: string): string {
  // ftfy fixes line by line, and stops unescaping HTML once a line has a '<'.
  let unescapeHtml = true;
  let out = "";
  let pos = 0;
  while (pos < text.length) {
    const newline = text.indexOf("\n", pos);
    const end = newline === -1 ? text.length : newline + 1;
    const segment = text.slice(pos, end);
    if (segment.includes("<")) unescapeHtml = false;
    out += fixSegment(segment, unescapeHtml);
    pos = end;
  }
  return out;
}

function stripWhitespace(text: string): string {
  return text.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, "");
}

/** The text CLIP's BPE sees: fixed, unescaped, whitespace-collapsed, lower-cased. */
export function cleanClipText(text: string): string {
  const basic = stripWhitespace(pythonHtmlUnescape(pythonHtmlUnescape(fixText(text))));
  return stripWhitespace(basic.replace(WHITESPACE_RUN, " ")).toLowerCase();
}
