import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { sleep } from '../sleep.ts';
import { makeMessage, MemorySource } from './memory.ts';
import type { Subscription } from './types.ts';

const SAMPLE_FILE = fileURLToPath(new URL('../../data/sample-feed.json', import.meta.url));

/** Every channel of the sample is `t.me/sample_<agency>`, titled `<agency> (sample)`: visibly not the real one. */
export const SAMPLE_CHANNEL_PREFIX = 't.me/sample_';
export const isSampleChannel = (channelLink: string): boolean => channelLink.startsWith(SAMPLE_CHANNEL_PREFIX);

const SampleFileSchema = z.object({
  posts: z
    .array(
      z.object({
        channel: z.string().regex(/^t\.me\/sample_[a-z0-9_]+$/, `sample channels are named ${SAMPLE_CHANNEL_PREFIX}<agency>`),
        title: z.string().regex(/ \(sample\)$/, 'sample channel titles end in " (sample)"'),
        text: z.string().min(1),
      }),
    )
    .min(1),
});
export type SamplePost = z.infer<typeof SampleFileSchema>['posts'][number];

export function loadSamplePosts(file = SAMPLE_FILE): SamplePost[] {
  return SampleFileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).posts;
}

/** The sample's in-memory Telegram, which tells when the tail listens (a live post before that is never heard). */
class SampleSource extends MemorySource {
  listening = false;

  override async subscribe(...args: Parameters<MemorySource['subscribe']>): Promise<Subscription> {
    const subscription = await super.subscribe(...args);
    this.listening = true;
    return subscription;
  }
}

export interface SampleFeed {
  source: MemorySource;
  channels: string[];
  /** how many posts the feed holds (history and live together) */
  posts: number;
  /** Once the tail listens, post the remaining sample posts live, one every `intervalMs`, until done or aborted; resolves when the tail has handled them. */
  replay(intervalMs: number, signal: AbortSignal): Promise<number>;
}

/**
 * The bundled sample feed of real agency posts (`tutordex start` with no Telegram setting at all): the first
 * `historyShare` of the posts are channel history from the last few hours (the catch-up finds them), the rest
 * arrive live, so a fresh install shows the whole pipeline working within seconds.
 */
export function sampleFeed(options: { now?: Date; historyShare?: number; posts?: SamplePost[] } = {}): SampleFeed {
  const posts = options.posts ?? loadSamplePosts();
  const now = options.now ?? new Date();
  const source = new SampleSource();
  const byChannel = new Map<string, { title: string; ids: number }>();
  for (const p of posts) if (!byChannel.has(p.channel)) byChannel.set(p.channel, { title: p.title, ids: 0 });
  let index = 0;
  for (const [link, c] of byChannel) source.addChannel({ channelLink: link, channelId: String(-1001000000000 - index++), title: c.title });
  const historyCount = Math.round(posts.length * (options.historyShare ?? 0.5));
  const nextId = (link: string) => ++byChannel.get(link)!.ids;
  posts.slice(0, historyCount).forEach((p, i) => {
    const date = new Date(now.getTime() - (historyCount - i) * 3 * 60_000);
    source.post(p.channel, makeMessage({ id: nextId(p.channel), date, text: p.text }), { silent: true });
  });
  const live = posts.slice(historyCount);
  return {
    source,
    channels: [...byChannel.keys()],
    posts: posts.length,
    async replay(intervalMs, signal) {
      while (!source.listening && !signal.aborted) await sleep(20, signal);
      let sent = 0;
      for (const p of live) {
        await sleep(intervalMs, signal);
        if (signal.aborted) break;
        source.post(p.channel, makeMessage({ id: nextId(p.channel), date: new Date(), text: p.text }));
        sent++;
      }
      await source.settle();
      return sent;
    },
  };
}
