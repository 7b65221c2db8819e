import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { llmJsonSchema } from '../schema.ts';
import type { Fingerprint } from '../types.ts';
import { fingerprint, sha256Hex } from './fingerprint.ts';

/** The bundled default prompt, shipped beside this file and read at runtime. */
export const BUNDLED_PROMPT_PATH = fileURLToPath(new URL('./system-prompt.txt', import.meta.url));

export const RULE = '\u2500'.repeat(40);
const REMINDER = 'Follow the schema exactly and output JSON only.';
/** Stands for the message text when the user template is fingerprinted. */
const MESSAGE_PLACEHOLDER = '{{MESSAGE}}';

export interface PromptSettings {
  systemPromptText: string | null;
  systemPromptFile: string | null;
  /** base for a relative LLM_SYSTEM_PROMPT_FILE; default process.cwd() */
  baseDir?: string;
}

export interface SystemPrompt {
  /** the trimmed prompt text (without the schema and reminder appended for the system message) */
  text: string;
  /** what is actually sent as the system message */
  message: string;
  source: string;
}

export class PromptConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptConfigError';
  }
}

/**
 * Precedence: LLM_SYSTEM_PROMPT_TEXT (non-blank) > LLM_SYSTEM_PROMPT_FILE > the bundled prompt. A configured prompt
 * file that is missing or empty is an error, never a silent fallback to the default.
 */
export function resolveSystemPrompt(settings: PromptSettings): SystemPrompt {
  const inline = settings.systemPromptText?.trim();
  if (inline) return buildSystemPrompt(inline, 'env:LLM_SYSTEM_PROMPT_TEXT');
  if (settings.systemPromptFile?.trim()) {
    const given = settings.systemPromptFile.trim();
    const path = isAbsolute(given) ? given : resolve(settings.baseDir ?? process.cwd(), given);
    return buildSystemPrompt(readPromptFile(path, `LLM_SYSTEM_PROMPT_FILE=${given}`), `env:LLM_SYSTEM_PROMPT_FILE:${path}`);
  }
  return buildSystemPrompt(readPromptFile(BUNDLED_PROMPT_PATH, 'the bundled system prompt'), 'bundled:system-prompt.txt');
}

function readPromptFile(path: string, what: string): string {
  if (!existsSync(path)) throw new PromptConfigError(`System prompt file not found (${what}): ${path}. No fallback is used.`);
  const text = readFileSync(path, 'utf8').trim();
  if (!text) throw new PromptConfigError(`System prompt file is empty (${what}): ${path}`);
  return text;
}

function buildSystemPrompt(text: string, source: string): SystemPrompt {
  // The schema is generated from the zod schema (one definition), so JSON-mode/plain fallbacks still see it.
  const schema = JSON.stringify(llmJsonSchema());
  const message = `${text}\n\nThe JSON object must validate against this JSON Schema:\n${schema}\n\n${REMINDER}\n`;
  return { text, message, source };
}

/** User message. Without examples the footer does not mention "the examples above". */
export function buildUserMessage(message: string, examplesBlock: string | null): string {
  const target = [RULE, 'BEGIN TARGET MESSAGE', RULE, '"""', message, '"""', RULE, 'END TARGET MESSAGE', RULE].join('\n');
  if (!examplesBlock) {
    const instructions = [
      'Extract only from the TARGET MESSAGE below.',
      'Copy verbatim fields exactly as written in the message.',
      'If something is not stated explicitly, output null (or [] only when certain there are none), as the schema says.',
    ];
    return `${instructions.join('\n')}\n${target}`.trim();
  }
  const header = [
    'These are Raw -> JSON examples, for formatting reference only.',
    'They are not the target message.',
    RULE,
    'BEGIN EXAMPLES',
    RULE,
    '',
    examplesBlock.trim(),
    RULE,
    'END EXAMPLES',
    RULE,
    '',
    '',
    '',
  ];
  const instructions = [
    'Extract only from the TARGET MESSAGE below.',
    'The examples above are formatting guidance, not facts about this message.',
    'Do not copy any value from the examples.',
    'If something is not stated explicitly, output null (or [] only when certain there are none), as the schema says.',
  ];
  return `${header.join('\n')}\n${instructions.join('\n')}\n${target}`.trim();
}

/**
 * Prompt fingerprint: sha256 over the rendered system message, the user template (with and without examples, message
 * replaced by a placeholder) and the model parameters; `chars` is the length of the trimmed prompt text.
 */
export function promptFingerprint(prompt: SystemPrompt, params: { model: string; temperature: number; maxTokens: number }): Fingerprint {
  const material = JSON.stringify({
    system: prompt.message,
    user: buildUserMessage(MESSAGE_PLACEHOLDER, null),
    userWithExamples: buildUserMessage(MESSAGE_PLACEHOLDER, '{{EXAMPLES}}'),
    ...params,
  });
  const fp = fingerprint(prompt.text, prompt.source);
  return { ...fp, sha256: sha256Hex(material) };
}
