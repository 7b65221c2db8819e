import { getTaxonomy, normalizeLabel } from '../extraction/index.ts';
import { UserError } from '../errors.ts';

/**
 * Tutor-facing vocabulary: subject names / aliases / codes → taxonomy codes, and level names → canonical levels.
 * Stored values use the taxonomy's spelling (upper-case codes, "Secondary", "Secondary 3") so that SQL array
 * overlap (`&&`) against assignment signals is an exact comparison.
 */

interface SubjectIndex {
  codes: Set<string>;
  categories: Set<string>;
  /** subject key → every canonical code it maps to at any level (taxonomy order, deduplicated). */
  keyCodes: Map<string, string[]>;
}

let subjectIndexCache: SubjectIndex | null = null;

function subjectIndex(): SubjectIndex {
  if (subjectIndexCache) return subjectIndexCache;
  const tax = getTaxonomy();
  const codes = new Set<string>(tax.categoryByCode.keys());
  const categories = new Set<string>(tax.categoryByCode.values());
  const keyCodes = new Map<string, string[]>();
  for (const table of tax.mappings.values()) {
    for (const [key, list] of table) {
      const acc = keyCodes.get(key) ?? [];
      for (const code of list) {
        codes.add(code);
        if (!acc.includes(code)) acc.push(code);
      }
      keyCodes.set(key, acc);
    }
  }
  subjectIndexCache = { codes, categories, keyCodes };
  return subjectIndexCache;
}

/** The general level of a canonical level ("Primary 5" → "Primary", "Junior College 1" → "Junior College"). */
function generalLevel(level: string): string | null {
  const tax = getTaxonomy();
  if (tax.levels.includes(level)) return level;
  const m = /^(Primary|Secondary|Junior College|IB|IGCSE)\b/.exec(level);
  if (m) return m[1]!;
  return /^(?:Kindergarten|Nursery)\b/.test(level) ? 'Pre-School' : null;
}

/**
 * One subject → codes, or null when unknown. A subject name is every code it has at the tutor's levels ("Maths"
 * with P5, P6 is MATH.GENERAL, not the secondary and JC codes); at any level when none is given or none of them
 * lists it. A code or a category is taken as given.
 */
export function subjectCodes(input: string, levels: readonly string[] = []): string[] | null {
  const s = input.trim();
  if (!s) return null;
  const idx = subjectIndex();
  const up = s.toUpperCase();
  if (idx.codes.has(up)) return [up];
  const category = up.replace(/[\s-]+/g, '_');
  if (idx.categories.has(category)) return [category];
  const tax = getTaxonomy();
  const key = tax.aliasIndex.get(normalizeLabel(s)) ?? (idx.keyCodes.has(category) ? category : undefined);
  const codes = key ? idx.keyCodes.get(key) : undefined;
  if (!key || !codes || codes.length === 0) return null;
  const tables = [...new Set(levels.map(generalLevel).filter((l): l is string => l !== null)), 'ANY'];
  const atLevels = [...new Set(tables.flatMap((t) => tax.mappings.get(t)?.get(key) ?? []))];
  return levels.length > 0 && atLevels.length > 0 ? atLevels : [...codes];
}

const dedupe = (xs: string[]): string[] => [...new Set(xs)];

/** Names, aliases ("E Maths", "physics"), general categories ("Math") or canonical codes → codes. Unknown → UserError. */
export function resolveSubjects(inputs: string[], levels: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    if (!input.trim()) continue;
    const codes = subjectCodes(input, levels);
    if (!codes)
      throw new UserError(
        `unknown subject "${input.trim()}" (use a subject name like "E Maths", a category like "Math", or a taxonomy code like MATH.SEC_EMATH)`,
      );
    out.push(...codes);
  }
  return dedupe(out);
}

interface SpecificForm {
  re: RegExp;
  min: number;
  max: number;
  label: (n: number) => string;
}

// A level word then a number: "Sec 3", "sec3", "S3", "P5", "Primary 5", "JC1", "J.C. 2", "K2", "IB Year 12".
const SPECIFIC: SpecificForm[] = [
  { re: /^(?:primary|pri|p)\s*\.?\s*(\d{1,2})$/, min: 1, max: 6, label: (n) => `Primary ${n}` },
  { re: /^(?:secondary|sec|s)\s*\.?\s*(\d{1,2})$/, min: 1, max: 5, label: (n) => `Secondary ${n}` },
  { re: /^(?:junior\s*college|j\s*\.?\s*c\s*\.?|j)\s*(\d{1,2})$/, min: 1, max: 2, label: (n) => `Junior College ${n}` },
  { re: /^(?:kindergarten|kindy|k)\s*(\d{1,2})$/, min: 1, max: 2, label: (n) => `Kindergarten ${n}` },
  { re: /^(?:nursery|nur|n)\s*(\d{1,2})$/, min: 1, max: 2, label: (n) => `Nursery ${n}` },
  { re: /^ib\s*(?:year)?\s*(\d{1,2})$/, min: 1, max: 13, label: (n) => `IB Year ${n}` },
  { re: /^igcse\s*(?:grade|year)\s*(\d{1,2})$/, min: 6, max: 12, label: (n) => `IGCSE Grade ${n}` },
];

/** One level (general or specific) → canonical spelling, or null when unknown. */
export function canonicalLevel(input: string): string | null {
  const s = input.trim().replace(/\s+/g, ' ');
  if (!s) return null;
  const lower = s.toLowerCase();
  const tax = getTaxonomy();
  const exact = tax.levels.find((l) => l.toLowerCase() === lower);
  if (exact) return exact;
  const alias = tax.levelAliases.get(lower);
  if (alias) return alias;
  for (const form of SPECIFIC) {
    const m = form.re.exec(lower);
    if (!m) continue;
    const n = Number(m[1]);
    if (n >= form.min && n <= form.max) return form.label(n);
  }
  return null;
}

/** Levels ("Secondary", "sec") or specific levels ("Sec 3" → "Secondary 3", "P5", "JC1") → canonical. Unknown → UserError. */
export function resolveLevels(inputs: string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    if (!input.trim()) continue;
    const level = canonicalLevel(input);
    if (!level) throw new UserError(`unknown level "${input.trim()}" (use a level like "Secondary" or a specific level like "Sec 3", "P5", "JC1")`);
    out.push(level);
  }
  return dedupe(out);
}

/** The spellings an assignment signal may use for a level, for overlap matching (raw, plus canonical when known). */
export function levelVariants(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string' || !v.trim()) continue;
    out.push(v.trim());
    const c = canonicalLevel(v);
    if (c) out.push(c);
  }
  return dedupe(out);
}
