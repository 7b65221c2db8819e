import { cutBalanced } from './llm/json-scan.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface ExampleCase {
  raw: string;
  expected: unknown;
}

export interface LoadedExample extends ExampleCase {
  agency: string;
  file: string;
  index: number;
  channelLink: string | null;
}

const RAW_RE = /Raw:\s*([\s\S]*?)(?=\nJSON *:)/g;

/** Every `Raw:` block up to a line starting `JSON:`, then the first balanced `{…}` after it. */
export function parseExamplesFile(text: string): ExampleCase[] {
  const out: ExampleCase[] = [];
  for (const m of text.matchAll(RAW_RE)) {
    const after = (m.index ?? 0) + m[0].length;
    const brace = text.indexOf('{', after);
    if (brace < 0) continue;
    const objText = cutBalanced(text, brace);
    if (objText === null) continue;
    let expected: unknown;
    try {
      expected = JSON.parse(objText);
    } catch {
      continue;
    }
    out.push({ raw: (m[1] ?? '').trim(), expected });
  }
  return out;
}

/** The channel named in the `#` header comment (`# Name (t.me/xxx)`), lower-cased. */
export function channelFromHeader(text: string): string | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) {
      if (line.trim() === '') continue;
      break;
    }
    const m = /t\.me\/[A-Za-z0-9_]+/.exec(line);
    if (m) return m[0].toLowerCase();
  }
  return null;
}

export function loadExamples(dir: string): LoadedExample[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  const out: LoadedExample[] = [];
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    const cases = parseExamplesFile(text);
    if (cases.length === 0) continue;
    const agency = basename(file, '.txt');
    const channelLink = channelFromHeader(text);
    cases.forEach((c, i) => {
      out.push({ agency, file, index: i + 1, raw: c.raw, expected: c.expected, channelLink });
    });
  }
  return out;
}
