import os from 'node:os';
import postgres from 'postgres';

export const ADMIN_URL = process.env.BENCH_DATABASE_URL?.trim() || process.env.TEST_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh database on the benchmark server; dropped by the returned function. */
export async function scratchDatabase(tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `tutordex_bench_${tag}_${process.pid}_${Date.now()}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One line of the whole-run summary that `npm run bench` prints at the end (and writes into BENCHMARKS.md). */
export interface SummaryRow {
  suite: string;
  measurement: string;
  value: string;
  /** What the value is compared with, measured in the same run (or the target it is held to). */
  baseline: string;
  /** value ÷ baseline, e.g. "1.78×"; '' when there is nothing to divide by. */
  ratio: string;
}

export const ratioOf = (value: number, base: number) => (Number.isFinite(value / base) ? `${(value / base).toFixed(2)}×` : '');
