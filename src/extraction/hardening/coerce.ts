/**
 * "Coerce list": null → null; string → [trimmed]; arrays flattened; numbers stringified; blanks dropped;
 * de-duplicated case-insensitively keeping the first spelling (the same rule as the validator, so fills and
 * validation never disagree on duplicates). Empty → null.
 */
export function coerceList(value: unknown): string[] | null {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (v: unknown, depth: number): void => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) {
      if (depth < 8) for (const item of v) add(item, depth + 1);
      return;
    }
    if (typeof v === 'object') return;
    const s = String(v).trim();
    const key = s.toLowerCase();
    if (s !== '' && !seen.has(key)) {
      seen.add(key);
      out.push(s);
    }
  };
  add(value, 0);
  return out.length > 0 ? out : null;
}
