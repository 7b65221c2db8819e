import { isRecord, lazy, readDataJson } from './load-json.ts';
import { EXTRA_ALIASES, EXTRA_DISPLAY_LABELS } from './extra-aliases.ts';

/** The taxonomy v2 file, loaded once, plus derived indexes. */
export interface Taxonomy {
  ok: boolean;
  version: number;
  levels: string[];
  levelAliases: Map<string, string>;
  /** alias phrase (as written) → subject key; file aliases first, then our extra aliases (extra-aliases.ts). */
  aliases: Array<[string, string]>;
  /** normalised alias → subject key (first wins). */
  aliasIndex: Map<string, string>;
  displayByKey: Map<string, string>;
  /** level → subject key → codes. */
  mappings: Map<string, Map<string, string[]>>;
  categoryByCode: Map<string, string>;
  /** canonical subject code → its human label ("MATH.SEC_EMATH" → "E Math"). */
  labelByCode: Map<string, string>;
}

export const TAXONOMY_PATH = 'taxonomy/subjects_taxonomy_v2.json';

/** Label normaliser (lowercase, punctuation to spaces; keeps +, # for C++/C#). */
export function normalizeLabel(label: string): string {
  return label
    .toLowerCase()
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/[^a-z0-9+#-]+/g, ' ')
    .replace(/-/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const stringMap = (v: unknown): Array<[string, string]> =>
  isRecord(v) ? Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string') : [];

function emptyTaxonomy(): Taxonomy {
  return {
    ok: false,
    version: 2,
    levels: [],
    levelAliases: new Map(),
    aliases: [],
    aliasIndex: new Map(),
    displayByKey: new Map(),
    mappings: new Map(),
    categoryByCode: new Map(),
    labelByCode: new Map(),
  };
}

function readMappings(raw: Record<string, unknown>): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  const byLevel = isRecord(raw.mappings) ? raw.mappings.by_level_subject_key : undefined;
  if (!isRecord(byLevel)) return out;
  for (const [level, table] of Object.entries(byLevel)) {
    if (!isRecord(table)) continue;
    out.set(level, new Map(Object.entries(table).map(([k, codes]) => [k, strings(codes)])));
  }
  return out;
}

/** Preferred display label per key: an explicit, properly cased label ("Piano", "Python") wins. */
function buildDisplayLabels(
  raw: Record<string, unknown>,
  aliases: Array<[string, string]>,
  mappings: Map<string, Map<string, string[]>>,
  labelByCode: Map<string, string>,
): Map<string, string> {
  const out = new Map<string, string>(stringMap(raw.subject_key_display_labels));
  for (const [k, v] of Object.entries(EXTRA_DISPLAY_LABELS)) if (!out.has(k)) out.set(k, v);
  const any = mappings.get('ANY');
  for (const [, key] of aliases) {
    if (out.has(key)) continue;
    const code = any?.get(key)?.[0];
    const label = code ? labelByCode.get(code) : undefined;
    out.set(key, label ?? bestAliasLabel(key, aliases));
  }
  return out;
}

function bestAliasLabel(key: string, aliases: Array<[string, string]>): string {
  const score = (a: string): [number, number, number, number, string] => [
    /[A-Z]/.test(a) ? 1 : 0,
    a.length >= 6 ? 1 : 0,
    /[ /&()]/.test(a) ? 1 : 0,
    a.length,
    a,
  ];
  let best = '';
  let bestScore: [number, number, number, number, string] | null = null;
  for (const [alias, k] of aliases) {
    if (k !== key) continue;
    const s = score(alias);
    if (bestScore === null || compareTuple(s, bestScore) > 0) [best, bestScore] = [alias, s];
  }
  return best;
}

function compareTuple(a: Array<number | string>, b: Array<number | string>): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function loadTaxonomy(): Taxonomy {
  const raw = readDataJson(TAXONOMY_PATH);
  if (!isRecord(raw)) return emptyTaxonomy();
  const mappings = readMappings(raw);
  const aliases: Array<[string, string]> = [...stringMap(raw.subject_aliases), ...EXTRA_ALIASES];
  const aliasIndex = new Map<string, string>();
  for (const [alias, key] of aliases) {
    const n = normalizeLabel(alias);
    if (n && !aliasIndex.has(n)) aliasIndex.set(n, key);
  }
  const categoryByCode = new Map<string, string>();
  const labelByCode = new Map<string, string>();
  for (const s of Array.isArray(raw.canonical_subjects) ? raw.canonical_subjects : []) {
    if (!isRecord(s) || typeof s.code !== 'string') continue;
    if (typeof s.general_category_code === 'string') categoryByCode.set(s.code, s.general_category_code);
    if (typeof s.label === 'string') labelByCode.set(s.code, s.label);
  }
  const displayByKey = buildDisplayLabels(raw, aliases, mappings, labelByCode);
  // display labels also resolve back to their key (so labels we emit always canonicalise)
  for (const [key, label] of displayByKey) {
    const n = normalizeLabel(label);
    if (n && !aliasIndex.has(n)) aliasIndex.set(n, key);
  }
  return {
    ok: true,
    version: typeof raw.version === 'number' ? raw.version : 2,
    levels: strings(raw.levels),
    levelAliases: new Map(stringMap(raw.level_aliases).map(([k, v]) => [k.toLowerCase(), v])),
    aliases,
    aliasIndex,
    displayByKey,
    mappings,
    categoryByCode,
    labelByCode,
  };
}

export const getTaxonomy = lazy(loadTaxonomy);
