// CLIP tokenizer entry point.
import { fileURLToPath } from "node:url";

export {
  createClipTokenizer,
  loadClipTokenizer,
  loadClipTokenizerSync,
  START_OF_TEXT,
  END_OF_TEXT,
  type ClipEncoding,
  type ClipTokenizer,
  type ClipTokenizerFiles,
} from "./clip-tokenizer.ts";
export { cleanClipText, fixText } from "./text-cleanup.ts";

/** Folder with the CLIP vocab.json / merges.txt shipped with this package (SD 1.x/2.x share them). */
export const bundledClipVocabularyDir: string = fileURLToPath(new URL("../../assets/clip", import.meta.url));
