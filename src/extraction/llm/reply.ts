import { LlmAssignmentSchema, type LlmAssignment } from '../schema.ts';
import { ExtractionError } from '../types.ts';
import { coerceAssignment } from './coerce.ts';
import { codePointLength, sha256Hex } from './fingerprint.ts';
import { closeTruncated, preferredObject, removeTrailingCommas, straightenQuotes } from './json-scan.ts';

export type ParseReplyResult = { ok: true; value: LlmAssignment; repaired: string[] } | { ok: false; error: ExtractionError };

const SNIPPET_CHARS = 300;
const KNOWN_KEYS = Object.keys(LlmAssignmentSchema.shape);

/** First 300 code points, for error details. */
export function snippet(text: string): string {
  return Array.from(text).slice(0, SNIPPET_CHARS).join('');
}

function fail(type: string, message: string, reply: string, extra: Record<string, unknown> = {}): ParseReplyResult {
  // Every parse-stage failure carries the reply artefact (snippet, length, hash), so a bad reply can be diagnosed.
  const details = { snippet: snippet(reply), reply_chars: codePointLength(reply), reply_sha256: sha256Hex(reply), ...extra };
  return { ok: false, error: new ExtractionError(type, message, { transient: false, details }) };
}

/** Strict parse, then the repairs in increasing order of invasiveness; each one applied is logged. */
function parseJson(candidate: string, truncated: boolean, repaired: string[]): unknown {
  const attempts: Array<[string, (s: string) => string]> = [
    ['trailing_commas', removeTrailingCommas],
    ['smart_quotes', (s) => removeTrailingCommas(straightenQuotes(s))],
  ];
  let text = candidate;
  if (truncated) {
    text = closeTruncated(text);
    repaired.push('closed_truncated');
  }
  try {
    return JSON.parse(text);
  } catch {
    /* try repairs */
  }
  for (const [name, fix] of attempts) {
    try {
      const value = JSON.parse(fix(text));
      repaired.push(name);
      return value;
    } catch {
      /* next */
    }
  }
  throw new Error('unparseable');
}

/**
 * Model reply text → the ten validated keys: reasoning blocks and code fences stripped, preferred object chosen, `\_`
 * unescaped in the candidate only, JSON repaired where safe, extra keys dropped, harmless type slips coerced, then
 * strict zod validation. A non-object is an error, never `{}`.
 */
export function parseReply(reply: string | null | undefined): ParseReplyResult {
  const text = reply ?? '';
  if (!text.trim()) return fail('llm_empty_reply', 'The model returned an empty reply', text);
  const candidate = preferredObject(text);
  if (!candidate) return fail('llm_invalid_json', 'No JSON object found in the model reply', text);
  const repaired: string[] = [];
  if (candidate.afterReasoning) repaired.push('stripped_reasoning');
  const cleaned = candidate.text.replace(/\\_/g, '_');
  let parsed: unknown;
  try {
    parsed = parseJson(cleaned, candidate.truncated, repaired);
  } catch {
    return fail('llm_invalid_json', 'The model reply is not valid JSON, even after repair', text, { candidate: snippet(cleaned) });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return fail('llm_invalid_json', `The model reply is JSON but not an object (${Array.isArray(parsed) ? 'array' : typeof parsed})`, text);
  }
  const obj = parsed as Record<string, unknown>;
  if (!KNOWN_KEYS.some((k) => k in obj)) {
    return fail('llm_schema_mismatch', 'The JSON object has none of the schema keys', text, { keys: Object.keys(obj).slice(0, 20) });
  }
  const coerced = coerceAssignment(obj, repaired);
  const result = LlmAssignmentSchema.safeParse(coerced);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return fail('llm_schema_mismatch', `The JSON object does not match the schema: ${issues.join('; ')}`, text, { issues });
  }
  return { ok: true, value: result.data, repaired };
}
