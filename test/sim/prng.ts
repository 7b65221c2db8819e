import { createHash } from 'node:crypto';

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same sequence on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
  /** a pick weighted by the numbers of `weights` */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K;
  shuffle<T>(xs: readonly T[]): T[];
  /** an independent stream for one concern (scenario, faults, kills), so adding draws to one never shifts another */
  fork(label: string): Rng;
}

export function rng(seed: number): Rng {
  const next = mulberry32(seed);
  const self: Rng = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
    weighted(weights) {
      const entries = Object.entries(weights) as [string, number][];
      const total = entries.reduce((a, [, w]) => a + w, 0);
      let x = next() * total;
      for (const [k, w] of entries) {
        if ((x -= w) < 0) return k as never;
      }
      return entries.at(-1)![0] as never;
    },
    shuffle(xs) {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
    fork: (label) => rng(hashSeed(seed, label)),
  };
  return self;
}

/** A 32-bit number from a seed and any labels: stable per key, independent of the order things happen in. */
export function hashSeed(seed: number, ...parts: (string | number)[]): number {
  return createHash('sha256')
    .update([seed, ...parts].join('\u0000'))
    .digest()
    .readUInt32BE(0);
}

/** A deterministic number in [0, 1) for a key (fault schedules keyed by content and call order, not by time). */
export function unit(seed: number, ...parts: (string | number)[]): number {
  return hashSeed(seed, ...parts) / 2 ** 32;
}
