import { loadExamples } from './examples.ts';
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
}

/** Runs `extract` over every example in `dir` and scores it with §6.3; an extractor failure scores as an empty prediction. */
export async function evaluateExamples(
  dir: string,
  extract: (raw: string, channelLink: string | null) => Promise<unknown>,
): Promise<EvalReport> {
  const rows: EvalCaseRow[] = [];
  for (const ex of loadExamples(dir)) {
    let predicted: unknown = null;
    let error: string | undefined;
    try {
      predicted = await extract(ex.raw, ex.channelLink);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const s = scoreCase(ex.expected, predicted);
    rows.push({ agency: ex.agency, index: ex.index, total: s.total, exact: s.exact, perField: s.perField, predicted, ...(error ? { error } : {}) });
  }
  return { ...summarize(rows), rows };
}
