import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { normalizeChannelRef } from '../../config/index.ts';
import { channelFromHeader, parseExamplesFile } from '../examples.ts';
import { LlmAssignmentSchema } from '../schema.ts';
import type { Fingerprint } from '../types.ts';
import { fingerprint } from './fingerprint.ts';
import { PromptConfigError } from './prompt.ts';

export interface ExamplesSettings {
  includeExamples: boolean;
  examplesDir: string | null;
  examplesVariant: string | null;
  /** base for relative paths; default process.cwd() */
  baseDir?: string;
}

export interface ExamplesChoice {
  /** the rendered examples block inserted in the user message */
  block: string;
  fingerprint: Fingerprint;
  file: string;
  count: number;
}

const DEFAULT_DIR = 'message_examples';
const GENERAL_FILE = 'general.txt';
const KEYS = Object.keys(LlmAssignmentSchema.shape);

/** `t.me/Name`, `https://t.me/Name/123?x`, `@Name`, `Name` → `name`; never throws. */
export function channelUsername(ref: string | null): string | null {
  if (!ref?.trim()) return null;
  try {
    return normalizeChannelRef(ref.replace(/[?#].*$/, '')).replace(/^t\.me\//, '');
  } catch {
    const s = ref
      .trim()
      .replace(/[?#].*$/, '')
      .replace(/^https?:\/\//i, '')
      .replace(/^(www\.)?t\.me\//i, '')
      .replace(/^@/, '');
    return s.split('/')[0]?.trim().toLowerCase() || null;
  }
}

/**
 * Few-shot examples: per-agency file chosen by channel (from the file's `# Name (t.me/x)` header, or
 * `<username>.txt`), else `general.txt`. Files are parsed and re-rendered with only the ten schema keys, so the stray
 * `time_availability` key of old examples never reaches the model; a file without a single parseable example sends no
 * examples at all instead of empty stubs.
 */
export class FewShotExamples {
  readonly enabled: boolean;
  readonly dir: string | null;
  private byChannel: Map<string, string> | null = null;
  private readonly rendered = new Map<string, ExamplesChoice | null>();

  constructor(settings: ExamplesSettings) {
    this.enabled = settings.includeExamples;
    this.dir = this.enabled ? resolveDir(settings) : null;
  }

  forChannel(channelLink: string | null): ExamplesChoice | null {
    if (!this.enabled || !this.dir) return null;
    const user = channelUsername(channelLink);
    const index = this.index();
    const candidates = [user ? index.get(user) : undefined, user ? `${user}.txt` : undefined, GENERAL_FILE];
    for (const file of candidates) {
      if (!file) continue;
      const choice = this.render(file);
      if (choice) return choice;
    }
    return null;
  }

  private index(): Map<string, string> {
    if (this.byChannel) return this.byChannel;
    const map = new Map<string, string>();
    for (const file of readdirSync(this.dir as string)
      .filter((f) => f.endsWith('.txt'))
      .sort()) {
      const channel = channelFromHeader(readFileSync(join(this.dir as string, file), 'utf8'));
      const user = channelUsername(channel);
      if (user && !map.has(user)) map.set(user, file);
    }
    this.byChannel = map;
    return map;
  }

  private render(file: string): ExamplesChoice | null {
    if (this.rendered.has(file)) return this.rendered.get(file) ?? null;
    const path = join(this.dir as string, file);
    let choice: ExamplesChoice | null = null;
    if (existsSync(path)) {
      const cases = parseExamplesFile(readFileSync(path, 'utf8'));
      if (cases.length > 0) {
        const block = cases.map((c, i) => `Example ${i + 1}:\nRaw:\n${c.raw}\nJSON:\n${JSON.stringify(pickKeys(c.expected), null, 2)}`).join('\n\n');
        choice = { block, fingerprint: fingerprint(block, `file:${path}`), file, count: cases.length };
      }
    }
    this.rendered.set(file, choice);
    return choice;
  }
}

function pickKeys(expected: unknown): Record<string, unknown> {
  const obj = expected && typeof expected === 'object' && !Array.isArray(expected) ? (expected as Record<string, unknown>) : {};
  return Object.fromEntries(KEYS.map((k) => [k, obj[k] ?? null]));
}

/** LLM_EXAMPLES_DIR (or `message_examples`), then `<dir>/<variant>` — a missing folder is an error, not a silent fallback. */
function resolveDir(settings: ExamplesSettings): string {
  const base = settings.baseDir ?? process.cwd();
  const given = settings.examplesDir?.trim() || DEFAULT_DIR;
  let dir = isAbsolute(given) ? given : resolve(base, given);
  if (!isDir(dir)) throw new PromptConfigError(`LLM examples folder not found: ${dir} (LLM_INCLUDE_EXAMPLES=true)`);
  const variant = settings.examplesVariant?.trim();
  if (variant) {
    dir = join(dir, variant);
    if (!isDir(dir)) throw new PromptConfigError(`LLM_EXAMPLES_VARIANT folder not found: ${dir}`);
  }
  return dir;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
