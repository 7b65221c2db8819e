import type { Config } from '../config/index.ts';
import { ConfigError } from '../errors.ts';
import { applyFills, detectStatus, extractTimeAvailability, hardValidate, normalizeText, parseQualityScore, validateCanonical } from './hardening/index.ts';
import type { Queryable } from '../db/index.ts';
import { DatabaseReuseStore, LlmExtractor } from './llm/index.ts';
import { RulesExtractor } from './rules/index.ts';
import { CanonicalAssignmentSchema, type CanonicalAssignment, type LlmAssignment, type Signals } from './schema.ts';
import { buildSignals, estimatePostalCodes, geoEnrich } from './signals/index.ts';
import { assignmentGate, type GateResult } from './gate.ts';
import { triage } from './triage/index.ts';
import { ExtractionError, type Extractor } from './types.ts';

/** The extractor for a mode; with a database, LLM results are reused across workers and restarts. */
export function createExtractor(config: Config, mode: 'llm' | 'rules', options: { db?: Queryable } = {}): Extractor {
  if (mode === 'rules') return new RulesExtractor();
  if (!config.llm.apiUrl) throw new ConfigError('EXTRACTION_MODE=llm needs LLM_API_URL (an OpenAI-compatible endpoint, e.g. http://127.0.0.1:1234/v1)');
  return new LlmExtractor(config.llm, options.db ? { reuseStore: new DatabaseReuseStore(options.db) } : {});
}

export interface HardenedItem {
  canonical: CanonicalAssignment;
  signals: Signals | null;
  meta: Record<string, unknown>;
}

/**
 * Everything after the extractor, the same for LLM and rules (docs/extraction.md, "Hardening"): fills, estimated
 * postal code, deterministic time availability, hard validation (enforce), signals with tutor types and tiered rates,
 * status, region / nearest MRT, parse quality score, then the contract check.
 */
export function harden(assignment: LlmAssignment, rawText: string, channelLink: string | null): HardenedItem {
  const meta: Record<string, unknown> = {};
  const normalized = normalizeText(rawText);
  meta.normalization = { chars: normalized.length };
  const filled = applyFills({ ...assignment } as Record<string, unknown>, rawText);
  meta.fills = filled.meta;
  const parsed = filled.parsed as Record<string, unknown>;
  const estimate = estimatePostalCodes(parsed, rawText);
  parsed.postal_code_estimated = estimate.estimated;
  meta.postal_code_estimated = estimate.meta;
  const time = extractTimeAvailability(rawText, normalized);
  parsed.time_availability = time.value;
  meta.time_deterministic = time.meta;
  const validated = hardValidate(parsed, rawText, normalized);
  meta.hard_validation = { mode: 'enforce', violations: validated.violations };
  const cleaned = validated.cleaned;
  const { signals, error } = buildSignals(cleaned, rawText, normalized, channelLink ?? undefined);
  meta.signals = error ? { ok: false, error } : { ok: true };
  if (signals) {
    if (!cleaned.tutor_types && signals.tutor_types.length) cleaned.tutor_types = signals.tutor_types;
    if (!cleaned.rate_breakdown && Object.keys(signals.rate_breakdown).length) cleaned.rate_breakdown = signals.rate_breakdown;
  }
  if (!('postal_code_estimated' in cleaned)) cleaned.postal_code_estimated = estimate.estimated;
  const canonical = CanonicalAssignmentSchema.parse(cleaned);
  meta.status_detection = detectStatus(rawText);
  const geo = geoEnrich(canonical, rawText);
  meta.geo = geo;
  meta.parse_quality_score = parseQualityScore(canonical, { region: geo.region, nearestMrtComputed: geo.nearest_mrt_computed, signals });
  const contract = validateCanonical(canonical);
  meta.contract = contract;
  return { canonical, signals, meta };
}

export interface PostInput {
  text: string | null;
  channelLink: string | null;
  isForward: boolean;
  isReply: boolean;
  deleted: boolean;
}

export type PostResult =
  | { outcome: 'skipped'; reason: string; meta: Record<string, unknown> }
  | { outcome: 'ok'; items: HardenedItem[]; meta: Record<string, unknown> };

/**
 * One raw post: triage, then per item (a compilation has several) the extractor and hardening, then the
 * assignment gate (gate.ts): an item without evidence of a tuition request is dropped, and a post left with none
 * is skipped as `not_assignment: <reason>`.
 */
export async function processPost(input: PostInput, deps: { extractor: Extractor; signal?: AbortSignal }): Promise<PostResult> {
  const t = triage({ text: input.text, isForward: input.isForward, isReply: input.isReply, deleted: input.deleted });
  if (t.action === 'skip') return { outcome: 'skipped', reason: t.reason, meta: { triage: t } };
  const items: HardenedItem[] = [];
  const refused: GateResult[] = [];
  for (const item of t.items) {
    const started = performance.now();
    const extracted = await deps.extractor.extract(item.text, { channelLink: input.channelLink, signal: deps.signal });
    const hardened = harden(extracted.assignment, item.text, input.channelLink);
    const gate = assignmentGate(hardened.canonical, hardened.signals, item.text);
    hardened.meta = { ...hardened.meta, extractor: extracted.meta, item_code: item.code, gate, total_ms: Math.round(performance.now() - started) };
    if (gate.reason) refused.push(gate);
    else items.push(hardened);
  }
  if (items.length === 0 && refused.length > 0) {
    const gate = refused.find((g) => g.reason === 'not_a_request') ?? refused.find((g) => g.reason === 'no_request_details') ?? refused[0]!;
    return { outcome: 'skipped', reason: `not_assignment: ${gate.reason}`, meta: { triage: { compilation: t.compilation, items: t.items.length }, gate } };
  }
  if (items.length === 0) throw new ExtractionError('triage_no_items', 'triage produced no items to extract');
  return {
    outcome: 'ok',
    items,
    meta: { triage: { compilation: t.compilation, items: t.items.length, ...(refused.length ? { gated_out: refused.length } : {}) } },
  };
}

/**
 * A structured record (an agency's API row) already is the extraction: no triage, no extractor, the same
 * hardening and assignment gate as a post. `text` is the record as the raw log shows it.
 */
export function processRecord(assignment: LlmAssignment, text: string, channelLink: string | null): PostResult {
  const hardened = harden(assignment, text, channelLink);
  const gate = assignmentGate(hardened.canonical, hardened.signals, text);
  hardened.meta = { ...hardened.meta, extractor: { extractor: 'structured' }, item_code: null, gate };
  if (gate.reason) return { outcome: 'skipped', reason: `not_assignment: ${gate.reason}`, meta: { triage: { compilation: false, items: 1 }, gate } };
  return { outcome: 'ok', items: [hardened], meta: { triage: { compilation: false, items: 1 } } };
}
