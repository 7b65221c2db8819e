import { createHash } from 'node:crypto';
import type { Fingerprint } from '../types.ts';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Length in code points (an emoji counts as one, not as two UTF-16 units). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export function fingerprint(text: string, source: string): Fingerprint {
  return { sha256: sha256Hex(text), chars: codePointLength(text), source };
}
