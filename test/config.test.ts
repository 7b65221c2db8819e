import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, normalizeChannelRef, parseChannelList, parseWindow, effectiveSettings } from '../src/config/index.ts';
import { ConfigError } from '../src/errors.ts';

const load = (env: Record<string, string>) => loadConfig({ env, envFile: null, cwd: '/srv/app' });

describe('channel references', () => {
  it.each([
    ['t.me/Foo_bar', 't.me/foo_bar'],
    ['https://t.me/Foo_bar/', 't.me/foo_bar'],
    ['http://t.me/Foo_bar/123', 't.me/foo_bar'],
    ['t.me/Foo_bar/123', 't.me/foo_bar'],
    ['@Foo_bar', 't.me/foo_bar'],
    ['Foo_bar', 't.me/foo_bar'],
    ['  t.me/Foo_bar/  ', 't.me/foo_bar'],
    ['T.ME/Foo_bar', 't.me/foo_bar'],
    ['https://telegram.me/Foo_bar', 't.me/foo_bar'],
    ['www.t.me/Foo_bar', 't.me/foo_bar'],
    ['t.me/s/Foo_bar', 't.me/foo_bar'],
    ['"@Foo_bar"', 't.me/foo_bar'],
    ['-1001234567890', 't.me/c/1234567890'],
    ['1234567890', 't.me/c/1234567890'],
    ['https://t.me/c/1234567890/55', 't.me/c/1234567890'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeChannelRef(input)).toBe(expected);
  });

  it.each([
    ['t.me/+InviteHash123', /invite links cannot be collected/],
    ['https://t.me/joinchat/AAAAAE', /invite links/],
    ['https://example.com/foo', /only t.me links/],
    ['ftp://t.me/foo', /not a channel reference/],
    ['-12345', /numeric ids must look like/],
    ['ab', /expected @username/],
    ['foo bar', /expected @username/],
    ['https://t.me/', /expected @username/],
  ])('%s is refused with a message naming it', (input, message) => {
    let err: unknown;
    try {
      normalizeChannelRef(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(input.trim());
    expect((err as Error).message).toMatch(message);
  });
});

describe('channel lists', () => {
  it.each([
    ['t.me/Alpha1,t.me/Bravo2', ['t.me/alpha1', 't.me/bravo2']],
    ['["t.me/Alpha1","@Bravo2"]', ['t.me/alpha1', 't.me/bravo2']],
    ["['t.me/Alpha1','t.me/Bravo2']", ['t.me/alpha1', 't.me/bravo2']],
    ['[]', []],
    ['', []],
    [' , t.me/Alpha1 ,, ', ['t.me/alpha1']],
    ['["t.me/Alpha1", ""]', ['t.me/alpha1']],
    ['[t.me/Alpha1, t.me/Bravo2]', ['t.me/alpha1', 't.me/bravo2']],
    ['t.me/Foo_bar,@foo_BAR,https://t.me/FOO_BAR/9', ['t.me/foo_bar']],
    ['-1001234567890, t.me/c/1234567890', ['t.me/c/1234567890']],
  ])('%s → %j', (input, expected) => {
    expect(parseChannelList(input)).toEqual(expected);
  });

  it('CHANNEL_LIST (or its alias CHANNELS) goes through the same parser; a bad entry is a config error', () => {
    expect(load({ CHANNELS: '@Alpha1, t.me/alpha1' }).channels).toEqual(['t.me/alpha1']);
    expect(() => load({ CHANNEL_LIST: 't.me/ok_name,t.me/+secret' })).toThrow(
      /^CHANNEL_LIST="t.me\/ok_name,t.me\/\+secret" is invalid: not a channel reference: "t.me\/\+secret"/,
    );
  });
});

describe('time windows', () => {
  it('parses ISO-8601 with Z or an offset; since inclusive, until exclusive', () => {
    const w = parseWindow({ since: '2026-01-01T00:00:00Z', until: '2026-01-02T08:00:00+08:00' });
    expect(w.since!.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(w.until!.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(parseWindow({ since: '2026-03-01Z' }).since!.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(parseWindow({})).toEqual({ since: null, until: null });
  });

  it.each([
    [{ since: 'yesterday' }, /--since: "yesterday" is not an ISO-8601 date-time/],
    [{ since: '2026-01-01T00:00:00' }, /has no timezone; add Z \(UTC\) or an offset/],
    [{ until: '2026-02-30T00:00:00Z' }, /is not a valid date-time/],
    [{ until: '2026-01-01T25:00:00Z' }, /is not a valid date-time/],
    [{ since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, /must be earlier than --until/],
    [{ since: '2026-01-01T00:00:00Z', until: '2026-01-01T00:00:00Z' }, /must be earlier than --until/],
  ])('%j is refused', (input, message) => {
    expect(() => parseWindow(input)).toThrow(message);
  });
});

describe('environment', () => {
  it('uses the specs defaults', () => {
    const c = load({});
    expect(c.pipelineVersion).toBe('2026-01-02_det_time_v1');
    expect(c.database).toEqual({ kind: 'pglite', dataDir: '/srv/app/.tutordex/db' });
    expect(c.extractionQueueEnabled).toBe(true);
    expect(c.worker).toMatchObject({ broadcast: false, dms: false, oneshot: false, maxJobs: 0, batchSize: 10, maxAttempts: 3, staleProcessingSeconds: 900 });
    expect(c.recovery).toMatchObject({ enabled: true, checkIntervalSeconds: 30, chunkHours: 6, overlapMinutes: 10, gapCheckMinutes: 5 });
    expect(c.telegram).toMatchObject({ sessionFile: 'tutordex.session', recoverySessionFile: 'tutordex_recovery.session' });
    expect(c.extractionMode).toBe('rules');
  });

  it('accepts every boolean spelling and the seed aliases', () => {
    for (const [raw, value] of [
      ['1', true],
      ['0', false],
      ['TRUE', true],
      ['false', false],
      ['Yes', true],
      ['no', false],
      ['on', true],
      ['OFF', false],
    ] as const) {
      expect(load({ EXTRACTION_QUEUE_ENABLED: raw }).extractionQueueEnabled).toBe(value);
    }
    const c = load({ ENABLE_BROADCAST: 'yes', TG_API_ID: '12345', API_HASH: 'h4sh', EXTRACTION_WORKER_BATCH: '25', LLM_API_URL: 'http://127.0.0.1:1234/' });
    expect(c.worker.broadcast).toBe(true);
    expect(c.telegram.apiId).toBe(12345);
    expect(c.worker.batchSize).toBe(25);
    expect(c.llm.apiUrl).toBe('http://127.0.0.1:1234');
    expect(c.extractionMode).toBe('llm');
  });

  it('blank values fall back to defaults', () => {
    expect(load({ EXTRACTION_PIPELINE_VERSION: '  ' }).pipelineVersion).toBe('2026-01-02_det_time_v1');
  });

  it.each([
    [{ EXTRACTION_QUEUE_ENABLED: 'maybe' }, 'EXTRACTION_QUEUE_ENABLED="maybe" is invalid; expected 1/0, true/false, yes/no, on/off'],
    [{ EXTRACTION_WORKER_MAX_JOBS: '-1' }, 'EXTRACTION_WORKER_MAX_JOBS="-1" is invalid; expected an integer ≥ 0'],
    [{ EXTRACTION_WORKER_MAX_JOBS: '1.5' }, 'EXTRACTION_WORKER_MAX_JOBS="1.5" is invalid; expected an integer ≥ 0'],
    [{ RECOVERY_CATCHUP_CHUNK_HOURS: '100' }, 'RECOVERY_CATCHUP_CHUNK_HOURS="100" is invalid; expected an integer from 1 to 72'],
    [{ TG_API_ID: 'abc' }, 'TG_API_ID="abc" is invalid; expected an integer ≥ 1'],
    [{ EXTRACTION_MODE: 'magic' }, 'EXTRACTION_MODE="magic" is invalid; expected llm | rules'],
    [{ DATABASE_URL: 'mysql://root@localhost/x' }, 'DATABASE_URL is invalid; expected a postgres:// or postgresql:// connection string'],
    [{ LLM_API_URL: 'localhost:1234' }, 'LLM_API_URL="localhost:1234" is invalid; expected an http:// or https:// URL'],
  ])('%j → exit 2 with one line', (env, message) => {
    let err: unknown;
    try {
      load(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as Error).message).toBe(message);
  });

  it('DATABASE_URL or SUPABASE_DB_URL selects Postgres', () => {
    expect(load({ SUPABASE_DB_URL: 'postgresql://u:p@db.example.supabase.co:5432/postgres' }).database).toMatchObject({
      kind: 'postgres',
      source: 'SUPABASE_DB_URL',
    });
    expect(load({ DATABASE_URL: 'postgres://a@h/d', SUPABASE_DB_URL: 'postgres://b@h/d' }).database).toMatchObject({ url: 'postgres://a@h/d' });
  });

  it.each(['SUPABASE_URL', 'SUPABASE_URL_HOST', 'SUPABASE_URL_DOCKER', 'SUPABASE_SERVICE_ROLE_KEY'])(
    '%s without DATABASE_URL says to use the Postgres connection string',
    (name) => {
      expect(() => load({ [name]: 'http://127.0.0.1:54321' })).toThrow(
        new RegExp(`^${name} is set but DATABASE_URL is not: .*Postgres connection string .* in DATABASE_URL$`),
      );
    },
  );

  it('reports SUPABASE_ENABLED / SUPABASE_RAW_ENABLED as not needed', () => {
    const c = load({ SUPABASE_ENABLED: '1', SUPABASE_RAW_ENABLED: 'true' });
    expect(c.notes).toEqual([
      'SUPABASE_ENABLED is not needed: the database is always on',
      'SUPABASE_RAW_ENABLED is not needed: raw messages are always stored',
    ]);
  });

  it('reads a .env file; the real environment wins', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-env-'));
    writeFileSync(path.join(dir, '.env'), 'EXTRACTION_PIPELINE_VERSION=from_file\nCHANNEL_LIST="@Alpha1,@Bravo2"\n# comment\nLLM_MODEL_NAME=file-model\n');
    const c = loadConfig({ env: { LLM_MODEL_NAME: 'env-model' }, cwd: dir });
    expect(c.pipelineVersion).toBe('from_file');
    expect(c.channels).toEqual(['t.me/alpha1', 't.me/bravo2']);
    expect(c.llm.model).toBe('env-model');
    expect(c.env.envFile).toBe(path.join(dir, '.env'));
  });

  it('never shows a secret value, in the effective settings or in an error', () => {
    const secrets = {
      SESSION_STRING: '1BVtsOK8Bu-secret-session',
      TELEGRAM_API_HASH: 'abcdef0123456789hash',
      LLM_API_KEY: 'sk-test-secret-key',
      GROUP_BOT_TOKEN: '123456:AAbottokensecret',
      DATABASE_URL: 'postgres://app:dbpassw0rd@db.internal:5432/tutordex',
      DASHBOARD_TOKEN: 'dash-secret-token',
    };
    const c = load(secrets);
    const shown = JSON.stringify(effectiveSettings(c));
    for (const value of [...Object.values(secrets), 'dbpassw0rd']) expect(shown).not.toContain(value);
    expect(shown).toContain('postgres://app:[redacted]@db.internal:5432/tutordex');
    expect(c.secrets).toEqual(expect.arrayContaining([...Object.values(secrets), 'dbpassw0rd']));
    expect(() => load({ DATABASE_URL: 'mysql://app:dbpassw0rd@h/x' })).toThrow(/^DATABASE_URL is invalid/);
    try {
      load({ DATABASE_URL: 'mysql://app:dbpassw0rd@h/x' });
    } catch (e) {
      expect((e as Error).message).not.toContain('dbpassw0rd');
    }
  });
});

describe('README', () => {
  it('carries the current configuration table', async () => {
    const { readFileSync } = await import('node:fs');
    const { envTableMarkdown } = await import('../src/config/index.ts');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /<!-- config-table:start[^>]*-->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
    expect(block, 'regenerate with: node bin/tutordex.js config --markdown').toBe(envTableMarkdown());
  });
});
