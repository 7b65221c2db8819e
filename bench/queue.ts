/**
 * Queue throughput: claim + complete of no-op jobs, our queue vs graphile-worker in its fastest configuration,
 * on the same Postgres in the same run. Each figure is the drain time of a pre-filled queue: workers are started
 * and idle first, the jobs are committed in one transaction, the clock runs from that commit until every job is
 * completed in the database.
 */
import { Logger, makeWorkerUtils, run, type Runner } from 'graphile-worker';
import pg from 'pg';
import { migrate, openPglite, openPostgres, type Database } from '../src/db/index.ts';
import { claim, complete, enqueue, waitForWork } from '../src/queue/index.ts';
import { fmt, machine, median, printTable, scratchDatabase } from './support.ts';

const JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHANNEL = 't.me/bench';

async function fillRaw(db: Database, n: number): Promise<void> {
  await db.query(
    `insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, message_json)
     select $1, m, now(), 'post', '{}'::jsonb from generate_series(1, $2::integer) as m`,
    [CHANNEL, n],
  );
}

/** Start `workers` claim loops (idle, waiting for NOTIFY), enqueue `n` jobs, return jobs/s of the drain. */
async function drainOurs(handles: Database[], version: string, n: number, batch: number): Promise<number> {
  let remaining = n;
  let started = 0;
  const stop = new AbortController();
  const loops = handles.map(async (db) => {
    while (remaining > 0) {
      const jobs = await claim(db, version, batch);
      if (jobs.length === 0) {
        if (remaining > 0) await waitForWork(db, version, { timeoutMs: 20, signal: stop.signal });
        continue;
      }
      await complete(db, jobs.map((j) => ({ id: j.id, attempt: j.attempt, canonical: null })));
      remaining -= jobs.length;
    }
  });
  const ids = Array.from({ length: n }, (_, i) => String(i + 1));
  await enqueue(handles[0]!, { pipelineVersion: version, channelLink: CHANNEL, messageIds: ids });
  started = performance.now();
  await Promise.all(loops);
  stop.abort();
  return n / ((performance.now() - started) / 1000);
}

async function oursOnPostgres(workers: number, batch: number): Promise<number[]> {
  const scratch = await scratchDatabase('ours');
  const results: number[] = [];
  try {
    const setup = await openPostgres({ url: scratch.url, label: 'bench', max: 1 });
    await migrate(setup);
    await fillRaw(setup, JOBS);
    const handles = await Promise.all(Array.from({ length: workers }, () => openPostgres({ url: scratch.url, label: 'bench', max: 1 })));
    for (let r = 0; r < ROUNDS; r++) results.push(await drainOurs(handles, `bench-${r}`, JOBS, batch));
    await Promise.all([...handles, setup].map((h) => h.close()));
  } finally {
    await scratch.drop();
  }
  return results;
}

async function oursOnPglite(batch: number): Promise<number[]> {
  const db = await openPglite({ dataDir: null });
  const results: number[] = [];
  try {
    await migrate(db);
    await fillRaw(db, JOBS);
    for (let r = 0; r < ROUNDS; r++) results.push(await drainOurs([db], `bench-${r}`, JOBS, batch));
  } finally {
    await db.close();
  }
  return results;
}

async function graphile(concurrency: number): Promise<number[]> {
  const scratch = await scratchDatabase('graphile');
  const results: number[] = [];
  try {
    const logger = new Logger(() => () => {});
    // our own pool, ended before the database is dropped (a pool graphile ends lazily crashed the run on drop)
    const pgPool = new pg.Pool({ connectionString: scratch.url, max: concurrency + 4 });
    pgPool.on('error', () => {});
    pgPool.on('connect', (client) => client.on('error', () => {}));
    const utils = await makeWorkerUtils({ pgPool, logger });
    await utils.migrate();
    for (let r = 0; r < ROUNDS; r++) {
      let done = 0;
      let finished: () => void = () => {};
      const allDone = new Promise<void>((resolve) => (finished = resolve));
      const runner: Runner = await run({
        pgPool,
        concurrency,
        noHandleSignals: true,
        pollInterval: 1000,
        logger,
        taskList: { noop: async () => {} },
        preset: { worker: { localQueue: { size: 50 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
      });
      await new Promise((resolve) => setTimeout(resolve, 200)); // let it boot and go idle
      runner.events.on('job:complete', () => {
        if (++done === JOBS) finished();
      });
      const jobs = Array.from({ length: JOBS }, (_, i) => ({ identifier: 'noop', payload: { i } }));
      // one transaction for all jobs, like our single enqueue call
      await utils.withPgClient(async (client) => {
        await client.query('begin');
        for (let i = 0; i < jobs.length; i += 1000) {
          await client.query('select graphile_worker.add_jobs(array(select json_populate_recordset(null::graphile_worker.job_spec, $1::json)))', [
            JSON.stringify(jobs.slice(i, i + 1000).map((j) => ({ identifier: j.identifier, payload: j.payload }))),
          ]);
        }
        await client.query('commit');
      });
      const started = performance.now();
      await allDone;
      // completions are batched: wait until the database agrees every job is gone
      for (;;) {
        const left = await utils.withPgClient((c) => c.query('select count(*)::int as n from graphile_worker._private_jobs'));
        if (left.rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      results.push(JOBS / ((performance.now() - started) / 1000));
      await runner.stop();
    }
    await utils.release();
    await pgPool.end();
  } finally {
    await scratch.drop();
  }
  return results;
}

export async function queueBenchmark(): Promise<void> {
  console.log(`queue benchmark: ${fmt(JOBS)} no-op jobs, ${ROUNDS} rounds each (median shown), ${machine()}`);
  const batch = Number(process.env.BENCH_QUEUE_BATCH ?? 100);
  const graphile4 = median(await graphile(4));
  const ours1 = median(await oursOnPostgres(1, batch));
  const ours4 = median(await oursOnPostgres(4, batch));
  const ours4small = median(await oursOnPostgres(4, 20));
  const pglite1 = median(await oursOnPglite(batch));
  const vs = (x: number) => `${(x / graphile4).toFixed(2)}×`;
  const rows: (string | number)[][] = [
    ['graphile-worker 0.17.3, concurrency 4, localQueue 50, batched completion (baseline)', fmt(graphile4), '1.00×'],
    [`tutordex queue, Postgres, 1 worker, claim ${batch} + batch complete`, fmt(ours1), vs(ours1)],
    [`tutordex queue, Postgres, 4 workers, claim ${batch} + batch complete`, fmt(ours4), vs(ours4)],
    [`tutordex queue, Postgres, 4 workers, claim 20 + batch complete`, fmt(ours4small), vs(ours4small)],
    [`tutordex queue, PGlite (embedded), 1 worker, claim ${batch}`, fmt(pglite1), vs(pglite1)],
  ];
  printTable(['system', 'jobs/s', 'vs graphile'], rows);
  const ratio = ours4 / graphile4;
  console.log(`\ntarget: tutordex with 4 workers ≥ 1.5× graphile-worker's fastest → ${ratio.toFixed(2)}× ${ratio >= 1.5 ? 'MET' : 'NOT MET'}`);
}
