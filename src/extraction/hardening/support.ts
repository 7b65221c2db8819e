/** "Does the post support this snippet?" — checked against the raw and the normalised text. */
import { normalizeText } from './normalize.ts';
import { supportKey } from './text.ts';

export interface SupportIndex {
  raw: string;
  keys: string[];
}

export function supportIndex(rawText: string, normalizedText?: string): SupportIndex {
  const normalized = normalizedText ?? normalizeText(rawText);
  return { raw: rawText, keys: [supportKey(rawText), supportKey(normalized)] };
}

/** Snippets made only of symbols ("—", "📍") can only be checked literally. */
export function isSupported(index: SupportIndex, snippet: string): boolean {
  const key = supportKey(snippet);
  if (key === '') return index.raw.includes(snippet.trim());
  return index.keys.some((k) => k.includes(key));
}
