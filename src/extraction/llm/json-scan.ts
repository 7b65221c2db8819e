/**
 * Finding the JSON object in a model reply and repairing common damage. Pure string functions, no exceptions.
 */

const THINK_CLOSE = /<\/(think|thinking|reasoning|reflection|analysis)\s*>/gi;
const THINK_BLOCK = /<(think|thinking|reasoning|reflection|analysis)\s*>[\s\S]*?<\/\1\s*>/gi;

export interface Candidate {
  text: string;
  /** the object was auto-closed because the reply ended inside it */
  truncated: boolean;
  /** the reply had a closed reasoning block and only the part after it was used */
  afterReasoning: boolean;
}

/** Drop closed reasoning blocks; if a closing tag remains (opening tag missing), keep only what follows the last one. */
export function stripReasoning(reply: string): { text: string; stripped: boolean } {
  let text = reply.replace(THINK_BLOCK, '');
  let stripped = text !== reply;
  let lastEnd = -1;
  for (const m of text.matchAll(THINK_CLOSE)) lastEnd = (m.index ?? 0) + m[0].length;
  if (lastEnd >= 0) {
    text = text.slice(lastEnd);
    stripped = true;
  }
  return { text, stripped };
}

/** Remove markdown fence lines (```json / ```) and leading/trailing backtick runs. */
export function stripFences(text: string): string {
  return text.replace(/```[A-Za-z0-9_-]*/g, '\n').replace(/^[\s`]+|[\s`]+$/g, '');
}

/** String-aware cut of a balanced `{…}` starting at `start`; null when the text ends first. */
export function cutBalanced(text: string, start: number): string | null {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  return null;
}

const OBJECT_START = /^\{\s*(\}|"(?:[^"\\]|\\.)*"\s*:)/;

/**
 * Top-level objects, left to right. Quotes in prose outside any object are ignored (the reference's scanner let
 * a stray `"` in prose desynchronise it). A `{` that never balances is either noise (skipped) or, when it really
 * starts a JSON object (`{"key":`), the truncated tail of the reply: it is returned last, marked truncated.
 */
export function objectCandidates(text: string): Array<{ text: string; truncated: boolean }> {
  const out: Array<{ text: string; truncated: boolean }> = [];
  let i = text.indexOf('{');
  while (i >= 0) {
    const obj = cutBalanced(text, i);
    if (obj) {
      out.push({ text: obj, truncated: false });
      i = text.indexOf('{', i + obj.length);
    } else if (OBJECT_START.test(text.slice(i))) {
      out.push({ text: text.slice(i).trimEnd(), truncated: true });
      break;
    } else i = text.indexOf('{', i + 1);
  }
  return out;
}

const SCHEMA_HINT = /"(assignment_code|academic_display_text|learning_mode|rate|lesson_schedule)"\s*:/;

/**
 * The preferred object: after a closed reasoning block only what follows it counts, first object there (a truncated
 * answer is repaired, never swapped for a decoy inside the reasoning); otherwise the last object. Objects carrying a
 * schema key are preferred over stray ones. If no object starts cleanly, the text from the first `{` is returned as
 * truncated.
 */
export function preferredObject(reply: string): Candidate | null {
  const { text: afterThink, stripped } = stripReasoning(reply);
  const text = stripFences(afterThink);
  const objects = objectCandidates(text);
  if (objects.length > 0) {
    const withKeys = objects.filter((o) => SCHEMA_HINT.test(o.text));
    const pool = withKeys.length > 0 ? withKeys : objects;
    const picked = (stripped ? pool[0] : pool[pool.length - 1]) as { text: string; truncated: boolean };
    return { ...picked, afterReasoning: stripped };
  }
  const first = text.indexOf('{');
  if (first < 0) return null;
  return { text: text.slice(first).trimEnd(), truncated: true, afterReasoning: stripped };
}

/** Remove commas directly before `}` or `]` (outside strings). */
export function removeTrailingCommas(text: string): string {
  let out = '';
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      out += ch;
      continue;
    }
    if (ch === '"') inString = true;
    if (ch === ',') {
      const next = /^\s*([}\]])/.exec(text.slice(i + 1));
      if (next) continue;
    }
    out += ch;
  }
  return out;
}

/** Curly double quotes used as JSON delimiters → straight quotes. */
export function straightenQuotes(text: string): string {
  return text.replace(/[\u201C\u201D\u201E\u201F\u2033]/g, '"');
}

/**
 * Close a truncated object safely: cut back to the last point where a complete value ended (after a closing
 * brace/bracket, after a complete string value, or before a comma), drop a dangling comma, then close every
 * open container. A half-written value is dropped rather than kept cut (no invented verbatim snippets).
 */
export function closeTruncated(text: string): string {
  const stack: string[] = [];
  let inString = false;
  let escaped = false;
  let stringIsValue = false;
  let safe = { end: 0, stack: [] as string[] };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') {
        inString = false;
        if (stringIsValue) safe = { end: i + 1, stack: [...stack] };
      }
      continue;
    }
    if (ch === '"') {
      inString = true;
      const prev = text.slice(0, i).trimEnd().slice(-1);
      stringIsValue = prev === ':' || stack[stack.length - 1] === '[';
    } else if (ch === '{' || ch === '[') {
      stack.push(ch === '{' ? '}' : ']');
      safe = { end: i + 1, stack: [...stack] };
    } else if (ch === '}' || ch === ']') {
      stack.pop();
      safe = { end: i + 1, stack: [...stack] };
      if (stack.length === 0) return text.slice(0, i + 1);
    } else if (ch === ',') safe = { end: i, stack: [...stack] };
  }
  const head = text.slice(0, safe.end).replace(/,\s*$/, '');
  return head + safe.stack.reverse().join('');
}
