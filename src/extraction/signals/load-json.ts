import { readFileSync } from 'node:fs';

/** Read a bundled data file (path relative to the repo's data/ folder); null on any failure. */
export function readDataFile(relative: string): string | null {
  try {
    return readFileSync(new URL(`../../../data/${relative}`, import.meta.url), 'utf8');
  } catch {
    return null;
  }
}

export function readDataJson(relative: string): unknown {
  const raw = readDataFile(relative);
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return null;
  }
}

/** Memoise a zero-argument loader (data files are read once per process). */
export function lazy<T>(load: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = load();
      done = true;
    }
    return value;
  };
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
