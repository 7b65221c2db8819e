import type { LlmAssignment } from '../schema.ts';
import type { Fingerprint } from '../types.ts';
import { sha256Hex } from './fingerprint.ts';

/** Where earlier LLM answers are kept, keyed by `reuseKey`. A database-backed store can implement this later. */
export interface ReuseStore {
  get(key: string): Promise<LlmAssignment | null>;
  put(key: string, value: LlmAssignment): Promise<void>;
}

/** The text the model sees: line endings unified and the whole trimmed. */
export function normalizeMessage(text: string): string {
  return text.replace(/\r\n?/g, '\n').trim();
}

/** Same text + same prompt + same examples + same model → same answer (temperature 0). */
export function reuseKey(parts: { text: string; prompt: Fingerprint; examples: Fingerprint | null; model: string }): string {
  return sha256Hex(JSON.stringify([normalizeMessage(parts.text), parts.prompt.sha256, parts.examples?.sha256 ?? null, parts.model]));
}

/** In-process LRU; values are deep-copied in and out so callers cannot mutate the cache. */
export class MemoryReuseStore implements ReuseStore {
  private readonly map = new Map<string, LlmAssignment>();

  constructor(private readonly maxEntries = 1000) {}

  async get(key: string): Promise<LlmAssignment | null> {
    const value = this.map.get(key);
    if (!value) return null;
    this.map.delete(key);
    this.map.set(key, value);
    return structuredClone(value);
  }

  async put(key: string, value: LlmAssignment): Promise<void> {
    this.map.delete(key);
    this.map.set(key, structuredClone(value));
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.map.delete(oldest);
    }
  }

  get size(): number {
    return this.map.size;
  }
}
