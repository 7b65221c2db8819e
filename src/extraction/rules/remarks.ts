import { labelKind, parseLabel, type Line, type Parsed } from './labels.ts';

/** Calls to action / agency boilerplate that end a remarks section when they open a new paragraph. */
const BOILERPLATE =
  /\b(?:apply|applicants?|whatsapp|contact|click|forward|enquir(?:y|ies)|bid your rate|commission|agency|fees? goes|telegram)\b|https?:|www\.|t\.me\/|@\w{3,}/i;
/** A line that opens with an instruction to apply/contact ends the section even without a blank line. */
const CALL_TO_ACTION = /^(?:to apply|apply|please (?:apply|contact|whatsapp|text|pm)|contact|whatsapp|click|text|interested (?:tutors|applicants)|pm)\b/i;
const SEPARATOR = /^[\s\-–—=_~.*•]{4,}$/;
/** An emoji/symbol bullet (not plain "-", "*", "•") starts a new field in the post. */
const SYMBOL_BULLET = /^[^\p{L}\p{N}\s\-*•·(["'$+#]/u;

function endsSection(line: Line, afterBlank: boolean): boolean {
  if (SEPARATOR.test(line.raw)) return true;
  if (line.clean && parseLabel(line.clean)) return true;
  if (SYMBOL_BULLET.test(line.raw.trimStart())) return true;
  if (/https?:|www\.|t\.me\//i.test(line.clean) || CALL_TO_ACTION.test(line.clean)) return true;
  return afterBlank && BOILERPLATE.test(line.clean);
}

function section(p: Parsed, lineIndex: number, firstValue: string): string {
  const parts: string[] = firstValue ? [firstValue] : [];
  let afterBlank = false;
  for (let i = lineIndex + 1; i < p.lines.length && parts.length < 40; i++) {
    const line = p.lines[i];
    if (!line) break;
    if (!line.raw.trim()) {
      afterBlank = true;
      if (parts.length && parts[parts.length - 1] !== '') parts.push('');
      continue;
    }
    if (endsSection(line, afterBlank)) break;
    parts.push(line.raw.trim());
    afterBlank = false;
  }
  while (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts.join('\n').trim();
}

/** Only an explicit Remarks/Notes/Requirements-style section, copied verbatim (several sections joined by newlines). */
export function extractRemarks(p: Parsed): string | null {
  const starts: { lineIndex: number; value: string }[] = p.labels.filter((l) => l.kind === 'remarks');
  // A heading line with no separator ("Remarks") also opens a section.
  p.lines.forEach((line, i) => {
    if (line.clean.length <= 40 && labelKind(line.clean.replace(/[:：]\s*$/, '')) === 'remarks' && !starts.some((s) => s.lineIndex === i)) {
      starts.push({ lineIndex: i, value: '' });
    }
  });
  starts.sort((a, b) => a.lineIndex - b.lineIndex);
  const found: string[] = [];
  for (const l of starts) {
    const text = section(p, l.lineIndex, l.value);
    if (text && !found.includes(text)) found.push(text);
  }
  return found.length ? found.join('\n') : null;
}
