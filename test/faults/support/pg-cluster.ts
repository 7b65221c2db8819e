/**
 * A disposable PostgreSQL cluster (Debian postgresql-common: pg_createcluster / pg_ctlcluster / pg_dropcluster)
 * that a fault scenario may stop and start at will. The shared cluster other tests use is never touched: the
 * scenario gets its own cluster, named after this process, on a free port, with trust authentication.
 *
 *   const why = disposableClusterUnavailable();   // null when root and postgresql-common are here
 *   const cluster = await createDisposableCluster();
 *   cluster.url('tutordex');  await cluster.stop('fast');  await cluster.start();  await cluster.drop();
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PREFIX = 'tutordexfault_';

export interface DisposableCluster {
  readonly version: string;
  readonly name: string;
  readonly port: number;
  /** Connection string to `database` on this cluster (user postgres, trust auth). */
  url(database?: string): string;
  /** pg_ctlcluster stop: `fast` (disconnect clients, clean shutdown) or `immediate` (like a crash). */
  stop(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** pg_ctlcluster start; resolves once the server accepts connections. */
  start(): Promise<void>;
  /** Stop (if running) and delete the cluster and its data. */
  drop(): Promise<void>;
}

/** Why a disposable cluster cannot be made here (null: it can). */
export function disposableClusterUnavailable(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root (pg_createcluster needs it)';
  for (const tool of ['pg_createcluster', 'pg_ctlcluster', 'pg_dropcluster', 'pg_lsclusters']) {
    if (!existsSync(`/usr/bin/${tool}`)) return `${tool} is not installed (postgresql-common)`;
  }
  if (!postgresVersion()) return 'no PostgreSQL server version under /etc/postgresql';
  return null;
}

function postgresVersion(): string | null {
  if (!existsSync('/etc/postgresql')) return null;
  const versions = readdirSync('/etc/postgresql')
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(`/usr/lib/postgresql/${v}/bin/postgres`))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ?? null;
}

interface ClusterRow {
  version: string;
  cluster: string;
  port: number;
  running: boolean;
}

async function listClusters(): Promise<ClusterRow[]> {
  const { stdout } = await run('pg_lsclusters', ['--no-header']);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 4)
    .map(([version, cluster, port, status]) => ({ version: version!, cluster: cluster!, port: Number(port), running: status!.startsWith('online') }));
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Create and start a fresh cluster (leftovers of earlier runs whose process is gone are dropped first). */
export async function createDisposableCluster(options: { firstPort?: number } = {}): Promise<DisposableCluster> {
  const version = postgresVersion();
  if (!version) throw new Error('no PostgreSQL server version under /etc/postgresql');
  const existing = await listClusters();
  for (const c of existing) {
    const owner = c.cluster.startsWith(PREFIX) ? Number(c.cluster.slice(PREFIX.length)) : NaN;
    if (Number.isInteger(owner) && (owner === process.pid || !alive(owner))) {
      await run('pg_dropcluster', ['--stop', c.version, c.cluster]).catch(() => {});
    }
  }
  const taken = new Set((await listClusters()).map((c) => c.port));
  let port = options.firstPort ?? 5439;
  while (taken.has(port) || (await portInUse(port))) port++;
  const name = `${PREFIX}${process.pid}`;
  await run('pg_createcluster', [version, name, '-p', String(port), '--', '--auth=trust'], { timeout: 120_000 });

  const ctl = (action: string, extra: string[] = []) =>
    run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, action, ...extra], { timeout: 60_000 });
  const cluster: DisposableCluster = {
    version,
    name,
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop: async (mode = 'fast') => {
      await ctl('stop', ['-m', mode]);
    },
    start: async () => {
      await ctl('start');
      // pg_ctlcluster waits for the server; make sure TCP accepts too before reporting it up
      for (let i = 0; i < 100 && !(await portInUse(port)); i++) await new Promise((r) => setTimeout(r, 50));
    },
    drop: async () => {
      await run('pg_dropcluster', ['--stop', version, name], { timeout: 60_000 });
    },
  };
  await cluster.start();
  return cluster;
}
