/**
 * Compilation (multi-assignment post) detection by heuristic triggers (docs/extraction.md, "Triage").
 * "Suspected" only; `splitCompilation` (split.ts, re-exported here) confirms and cuts.
 *
 * Differences from the reference: codes come from codes.ts (with its fixes, e.g. "#A9638 and #A9639" now
 * counts as two codes); enumerated labels also accept "Assignment 1" / "Job #2" /
 * "Case 3" followed by ")", "-", "." or the end of the line, not only ":"; and when no reference trigger fires,
 * a numbered / separator-delimited / repeated-label list whose items all look like assignments is suspected too.
 */
import { extractAssignmentCodes } from './codes.ts';
import { ENUMERATED_LABEL_RE, blocks as splitBlocks, normalizeNewlines } from './layout.ts';

import { structuredItems } from './split.ts';

export { splitCompilation } from './split.ts';
export type { CompilationItem, CompilationSplit } from './split.ts';

export interface CompilationThresholds {
  distinctCodes: number;
  labelHits: number;
  postalHits: number;
  urlHits: number;
  blockCount: number;
  applyNowHits: number;
}

export const DEFAULT_COMPILATION_THRESHOLDS: Readonly<CompilationThresholds> = {
  distinctCodes: 2,
  labelHits: 2,
  postalHits: 2,
  urlHits: 2,
  blockCount: 5,
  applyNowHits: 2,
};

export interface CompilationMetrics {
  distinctCodes: number;
  labelHits: number;
  postalHits: number;
  urlHits: number;
  blocks: number;
  applyNowHits: number;
}

export interface CompilationDetection {
  suspected: boolean;
  triggers: string[];
  metrics: CompilationMetrics;
}

const URL_RE = /(?:https?:\/\/|t\.me\/|www\.)[^\s<>\]]{1,2000}/gi;

function countDistinct(values: Iterable<string>): number {
  return new Set(values).size;
}

export function compilationMetrics(text: string): CompilationMetrics {
  const codes = extractAssignmentCodes(text).codes;
  const labels = [...text.matchAll(ENUMERATED_LABEL_RE)].length;
  const postals = countDistinct([...text.matchAll(/\b\d{6}\b/g)].map((m) => m[0]));
  const urls = countDistinct([...text.matchAll(URL_RE)].map((m) => m[0].replace(/[).,;:!?\]"']+$/, '').toLowerCase()));
  return {
    distinctCodes: codes.length,
    labelHits: labels,
    postalHits: postals,
    urlHits: urls,
    blocks: splitBlocks(text).length,
    applyNowHits: (text.match(/\bapply\s+now\b/gi) ?? []).length,
  };
}

export function detectCompilation(text: string | null | undefined, thresholds: Partial<CompilationThresholds> = {}): CompilationDetection {
  const empty: CompilationMetrics = { distinctCodes: 0, labelHits: 0, postalHits: 0, urlHits: 0, blocks: 0, applyNowHits: 0 };
  try {
    if (typeof text !== 'string' || text.trim() === '') return { suspected: false, triggers: [], metrics: empty };
    const th = { ...DEFAULT_COMPILATION_THRESHOLDS, ...thresholds };
    const m = compilationMetrics(normalizeNewlines(text));
    // the extra-evidence checks use the literal 2, as in the reference
    const extra = m.distinctCodes >= 2 || m.labelHits >= 2 || m.applyNowHits >= 2;
    const triggers: string[] = [];
    if (m.distinctCodes >= th.distinctCodes) triggers.push(`Multiple distinct assignment codes (${m.distinctCodes} >= ${th.distinctCodes})`);
    if (m.labelHits >= th.labelHits && m.blocks >= 2) triggers.push(`Multiple enumerated items (${m.labelHits} >= ${th.labelHits}, blocks=${m.blocks})`);
    if (m.postalHits >= th.postalHits && extra) triggers.push(`Multiple unique postal codes (${m.postalHits} >= ${th.postalHits})`);
    if (m.urlHits >= th.urlHits && extra) triggers.push(`Multiple URLs (${m.urlHits} >= ${th.urlHits})`);
    if (m.applyNowHits >= th.applyNowHits && m.blocks >= 2) triggers.push(`Repeated 'apply now' (${m.applyNowHits} >= ${th.applyNowHits}, blocks=${m.blocks})`);
    if (m.blocks >= th.blockCount && (m.distinctCodes >= 2 || m.labelHits >= 2)) {
      triggers.push(`Many content blocks (${m.blocks} >= ${th.blockCount}) with multi-item signals`);
    }
    // Our addition: numbered / separator-delimited / repeated-label lists of assignment-like items without codes.
    if (triggers.length === 0) {
      const structured = structuredItems(text);
      if (structured) triggers.push(`Structured list of assignment-like items (${structured.strategy}, ${structured.count} >= 2)`);
    }
    return { suspected: triggers.length > 0, triggers, metrics: m };
  } catch {
    return { suspected: false, triggers: [], metrics: empty };
  }
}
