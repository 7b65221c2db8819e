import { EQUIVALENT_KEYS } from './extra-aliases.ts';
import { getTaxonomy, normalizeLabel, TAXONOMY_PATH, type Taxonomy } from './taxonomy.ts';

export interface CanonicalizationDebug {
  taxonomy_path: string;
  taxonomy_version: number;
  level_in: string | null;
  level_code: string | null;
  input_subjects: string[];
  resolved_subject_keys: string[];
  unmapped_subjects: string[];
}

export interface CanonicalizationResult {
  ok: boolean;
  subjects_canonical: string[];
  subjects_general: string[];
  canonicalization_version: number;
  debug: CanonicalizationDebug;
}

/** Level text → taxonomy level (level_aliases, else verbatim taxonomy level). */
function resolveLevel(tax: Taxonomy, level: string | null | undefined): string | null {
  if (typeof level !== 'string' || !level.trim()) return null;
  const n = normalizeLabel(level);
  const viaAlias = tax.levelAliases.get(n) ?? tax.levelAliases.get(level.trim().toLowerCase());
  if (viaAlias) return viaAlias;
  if (tax.levels.includes(level.trim())) return level.trim();
  return /\bib\b/.test(n) && /\bigcse\b/.test(n) ? 'IB/IGCSE' : null;
}

/** IB-math fallback, restricted to whole words (so "Maths at Tai Seng" is not IB Math AI). */
function ibMathKey(n: string): string | null {
  const words = new Set(n.split(' '));
  if (!words.has('math') && !words.has('maths') && !words.has('mathematics')) return null;
  const family = words.has('aa') ? 'AA' : words.has('ai') ? 'AI' : null;
  if (!family) return null;
  const tier = words.has('hl') ? 'HL' : words.has('sl') ? 'SL' : 'UNKNOWN';
  return `IB_MATH_${family}_${tier}`;
}

function subjectKey(tax: Taxonomy, subject: string): string | null {
  const n = normalizeLabel(subject);
  if (!n) return null;
  return tax.aliasIndex.get(n) ?? ibMathKey(n);
}

/** Level tables to consult; "IB/IGCSE" has none, so it falls back to IB then IGCSE. */
const tablesFor = (level: string | null): string[] => (level === 'IB/IGCSE' ? ['IB', 'IGCSE'] : level ? [level] : []);

function codesFor(tax: Taxonomy, level: string | null, key: string): string[] {
  for (const k of [key, ...(EQUIVALENT_KEYS[key] ?? [])]) {
    for (const table of tablesFor(level)) {
      const codes = tax.mappings.get(table)?.get(k);
      if (codes?.length) return codes;
    }
  }
  return tax.mappings.get('ANY')?.get(key) ?? uniformCodes(tax, key);
}

/**
 * A key the level's table lacks still has a code when every level that has the key gives it the same one
 * ("Creative Writing" at Secondary, "Science" at K2): the subject is the same whatever the level. A key whose code
 * depends on the level (Maths) stays unmapped.
 */
function uniformCodes(tax: Taxonomy, key: string): string[] {
  let found: string[] | null = null;
  for (const table of tax.mappings.values()) {
    const codes = table.get(key);
    if (!codes?.length) continue;
    if (found && found.join() !== codes.join()) return [];
    found = codes;
  }
  return found ?? [];
}

const pushUnique = (list: string[], v: string): void => {
  if (!list.includes(v)) list.push(v);
};

/** Map display/alias labels to stable subject codes for one level. Never throws. */
export function canonicalizeSubjects(level: string | null | undefined, subjects: string | string[] | null | undefined): CanonicalizationResult {
  const tax = getTaxonomy();
  const input = (Array.isArray(subjects) ? subjects : [subjects]).filter((s): s is string => typeof s === 'string' && s.trim() !== '');
  const levelCode = resolveLevel(tax, level);
  const debug: CanonicalizationDebug = {
    taxonomy_path: TAXONOMY_PATH,
    taxonomy_version: tax.version,
    level_in: typeof level === 'string' ? level : null,
    level_code: levelCode,
    input_subjects: input.slice(0, 50),
    resolved_subject_keys: [],
    unmapped_subjects: [],
  };
  const result: CanonicalizationResult = { ok: tax.ok, subjects_canonical: [], subjects_general: [], canonicalization_version: tax.version, debug };
  for (const subject of input) {
    const key = subjectKey(tax, subject);
    const codes = key ? codesFor(tax, levelCode, key) : [];
    if (key && debug.resolved_subject_keys.length < 50) pushUnique(debug.resolved_subject_keys, key);
    if (codes.length === 0) {
      if (debug.unmapped_subjects.length < 50) debug.unmapped_subjects.push(subject);
      continue;
    }
    for (const code of codes) {
      pushUnique(result.subjects_canonical, code);
      const cat = tax.categoryByCode.get(code);
      if (cat) pushUnique(result.subjects_general, cat);
    }
  }
  return result;
}
