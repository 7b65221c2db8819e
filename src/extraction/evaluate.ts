import { loadExamples } from './examples.ts';
import {
  goldKey,
  matchingItemFrom,
  scoreMatchingPost,
  summarizeMatching,
  type MatchingCaseRow,
  type MatchingGold,
  type MatchingReport,
} from './matching-score.ts';
import type { HardenedItem } from './pipeline.ts';
import { scoreCase, summarize, type Summary } from './score.ts';

export interface EvalCaseRow {
  agency: string;
  index: number;
  total: number;
  exact: boolean;
  perField: Record<string, number>;
  predicted: unknown;
  error?: string;
}

export interface EvalReport extends Summary {
  rows: EvalCaseRow[];
  /** the matching-field score, when a matching gold was given */
  matching: MatchingReport | null;
}

/**
 * Runs `extract` over every example in `dir` and scores it: display fields against the example's `JSON:` block
 * (`scoreCase`, first item), and – with `matchingGold` – the fields matching uses against the gold labels, every item
 * of the post. `extract` returns the post's items (null or [] when skipped); a failure scores as no prediction.
 */
export async function evaluateExamples(
  dir: string,
  extract: (raw: string, channelLink: string | null) => Promise<HardenedItem[] | null>,
  options: { matchingGold?: MatchingGold } = {},
): Promise<EvalReport> {
  const rows: EvalCaseRow[] = [];
  const matchingRows: MatchingCaseRow[] = [];
  const unlabelled: string[] = [];
  for (const ex of loadExamples(dir)) {
    let items: HardenedItem[] = [];
    let error: string | undefined;
    try {
      items = (await extract(ex.raw, ex.channelLink)) ?? [];
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const predicted = items[0]?.canonical ?? null;
    const s = scoreCase(ex.expected, predicted);
    rows.push({ agency: ex.agency, index: ex.index, total: s.total, exact: s.exact, perField: s.perField, predicted, ...(error ? { error } : {}) });
    if (options.matchingGold) {
      const key = goldKey(ex.file, ex.index);
      const gold = options.matchingGold.get(key);
      if (!gold) {
        unlabelled.push(key);
        continue;
      }
      const mine = items.map(matchingItemFrom);
      matchingRows.push({ agency: ex.agency, key, perField: scoreMatchingPost(gold, mine), gold, predicted: mine });
    }
  }
  return { ...summarize(rows), rows, matching: options.matchingGold ? summarizeMatching(matchingRows, unlabelled) : null };
}
