import { loadConfig } from '../../src/config/index.ts';
import { createExtractor, matchingItemFrom, processPost, type MatchingItem, type PostResult } from '../../src/extraction/index.ts';

/** The rules extractor with default configuration, run through the whole post pipeline (triage → extract → harden). */
const extractor = createExtractor(loadConfig({ env: {}, envFile: null }), 'rules');

export async function processed(text: string): Promise<PostResult> {
  return processPost({ text, channelLink: null, isForward: false, isReply: false, deleted: false }, { extractor });
}

type Extracted = Extract<PostResult, { outcome: 'ok' }>;

async function extracted(text: string): Promise<Extracted> {
  const result = await processed(text);
  if (result.outcome !== 'ok') throw new Error(`skipped: ${result.reason}`);
  return result;
}

/** What matching reads from every item of the post. */
export async function matchingItems(text: string): Promise<MatchingItem[]> {
  return (await extracted(text)).items.map((i) => matchingItemFrom(i));
}

/** What matching reads from the post's first item. */
export async function matching(text: string): Promise<MatchingItem> {
  return matchingItemFrom((await extracted(text)).items[0]!);
}

/** The first item's hardened canonical fields. */
export async function canonical(text: string) {
  return (await extracted(text)).items[0]!.canonical;
}

export const sorted = (xs: readonly string[]) => [...xs].sort();
