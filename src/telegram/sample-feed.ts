import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { sleep } from '../sleep.ts';
import { makeMessage, MemorySource } from './memory.ts';

const SAMPLE_FILE = fileURLToPath(new URL('../../data/sample-feed.json', import.meta.url));

const SampleFileSchema = z.object({
  posts: z.array(z.object({ channel: z.string().regex(/^t\.me\/[a-z0-9_]+$/), title: z.string().nullable(), text: z.string().min(1) })).min(1),
});
export type SamplePost = z.infer<typeof SampleFileSchema>['posts'][number];

export function loadSamplePosts(file = SAMPLE_FILE): SamplePost[] {
  return SampleFileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).posts;
}

export interface SampleFeed {
  source: MemorySource;
  channels: string[];
  /** Post the remaining sample posts live, one every `intervalMs`, until done or aborted. */
  replay(intervalMs: number, signal: AbortSignal): Promise<number>;
}

/**
 * The bundled sample feed of real agency posts (`tutordex start` without Telegram credentials): the first
 * `historyShare` of the posts are channel history from the last few hours (the catch-up finds them), the rest
 * arrive live, so a fresh install shows the whole pipeline working within seconds.
 */
export function sampleFeed(options: { now?: Date; historyShare?: number; posts?: SamplePost[] } = {}): SampleFeed {
  const posts = options.posts ?? loadSamplePosts();
  const now = options.now ?? new Date();
  const source = new MemorySource();
  const byChannel = new Map<string, { title: string | null; ids: number }>();
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
    async replay(intervalMs, signal) {
      let sent = 0;
      for (const p of live) {
        await sleep(intervalMs, signal);
        if (signal.aborted) break;
        source.post(p.channel, makeMessage({ id: nextId(p.channel), date: new Date(), text: p.text }));
        sent++;
      }
      return sent;
    },
  };
}
