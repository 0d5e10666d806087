// Python's `html.unescape`, which CLIP applies (twice) to every prompt. Named
// references resolve through `entities` (same HTML5 table and legacy
// prefix rule); numeric references follow CPython's own rules, which differ
// from the HTML spec's (`&#1;` is dropped, not replaced).
import { decodeHTML } from "entities";

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** CPython html._invalid_charrefs: C1 bytes read as Windows-1252, NUL, CR. */
const INVALID_CHARREFS: Record<number, string> = {
  0x00: "\ufffd", 0x0d: "\r", 0x80: "\u20ac", 0x81: "\x81", 0x82: "\u201a",
  0x83: "\u0192", 0x84: "\u201e", 0x85: "\u2026", 0x86: "\u2020", 0x87: "\u2021",
  0x88: "\u02c6", 0x89: "\u2030", 0x8a: "\u0160", 0x8b: "\u2039", 0x8c: "\u0152",
  0x8d: "\x8d", 0x8e: "\u017d", 0x8f: "\x8f", 0x90: "\x90", 0x91: "\u2018",
  0x92: "\u2019", 0x93: "\u201c", 0x94: "\u201d", 0x95: "\u2022", 0x96: "\u2013",
  0x97: "\u2014", 0x98: "\u02dc", 0x99: "\u2122", 0x9a: "\u0161", 0x9b: "\u203a",
  0x9c: "\u0153", 0x9d: "\x9d", 0x9e: "\u017e", 0x9f: "\u0178",
};

/** CPython html._invalid_codepoints: references to these decode to nothing. */
function isInvalidCodepoint(cp: number): boolean {
  return (
    (cp >= 0x1 && cp <= 0x8) ||
    cp === 0xb ||
    (cp >= 0xe && cp <= 0x1f) ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) ||
    (cp & 0xfffe) === 0xfffe
  );
}

function replaceCharref(s: string): string {
  if (s[0] === "#") {
    const hex = s[1] === "x" || s[1] === "X";
    const digits = (hex ? s.slice(2) : s.slice(1)).replace(/;$/, "");
    const num = hex ? Number.parseInt(digits, 16) : Number(digits);
    const invalid = INVALID_CHARREFS[num];
    if (invalid !== undefined) return invalid;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return "\ufffd";
    if (isInvalidCodepoint(num)) return "";
    return String.fromCodePoint(num);
  }
  return decodeHTML(`&${s}`);
}

export function pythonHtmlUnescape(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(CHARREF, (_m, s: string) => replaceCharref(s));
}
