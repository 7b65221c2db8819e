import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { runCli } from '../src/cli/main.ts';

const Healthcheck = z.object({
  test: z.union([z.array(z.string()).min(2), z.string()]),
  interval: z.string(),
  timeout: z.string(),
  retries: z.number().int().positive(),
});
const Service = z
  .object({
    image: z.string().optional(),
    build: z.union([z.string(), z.object({ context: z.string() })]).optional(),
    command: z.array(z.string()).optional(),
    environment: z.record(z.string(), z.string()).optional(),
    env_file: z.union([z.string(), z.array(z.string())]).optional(),
    restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']),
    healthcheck: Healthcheck.optional(),
    volumes: z.array(z.string()).optional(),
    ports: z.array(z.string()).optional(),
    depends_on: z.record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']) })).optional(),
    deploy: z.object({ replicas: z.number().int().positive() }).optional(),
    profiles: z.array(z.string().regex(/^[a-z][a-z0-9_-]*$/)).optional(),
  })
  .strict()
  .refine((s) => s.image || s.build, 'a service needs image or build');
const Compose = z.object({ name: z.string(), services: z.record(z.string(), Service), volumes: z.record(z.string(), z.null()) }).passthrough();

const SECRETS = ['TELEGRAM_BOT_TOKEN', 'SESSION_STRING', 'LLM_API_KEY', 'TELEGRAM_API_HASH'];

describe('production deployment files', () => {
  const compose = Compose.parse(parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }));

  it('docker-compose.yml: valid structure, healthchecks and restart policies, named volumes, no secret values', () => {
    const names = Object.keys(compose.services);
    expect(names).toEqual(expect.arrayContaining(['postgres', 'migrate', 'live', 'worker', 'bot', 'web']));
    for (const [name, s] of Object.entries(compose.services)) {
      if (name !== 'migrate') {
        expect(s.healthcheck, name).toBeDefined();
        expect(s.restart, name).toBe('unless-stopped');
      }
      for (const v of s.volumes ?? []) expect(Object.keys(compose.volumes), `${name}: ${v}`).toContain(v.split(':')[0]);
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        if (SECRETS.includes(k)) expect(v, `${name}.${k} must come from .env`).toMatch(/^\$\{/);
      }
    }
    expect(compose.services.worker!.deploy!.replicas).toBeGreaterThanOrEqual(1);
    expect(compose.services.web!.environment!.DASHBOARD_TOKEN).toMatch(/^\$\{DASHBOARD_TOKEN:\?/); // required, not optional
  });

  it('every service command is a real tutordex command', async () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (!s.command || name === 'postgres') continue;
      const io = { out: () => {}, err: () => {}, errStream: { write: () => true }, env: {}, cwd: process.cwd() };
      const commandOnly = s.command.filter((a, i, all) => !a.startsWith('-') && !(i > 0 && all[i - 1]!.startsWith('--')));
      expect(await runCli([...commandOnly, '--help'], io), `${name}: ${s.command.join(' ')}`).toBe(0);
    }
  });

  it('Dockerfile: multi-stage, Node 20, non-root, copies only what exists, health check', () => {
    const text = readFileSync('Dockerfile', 'utf8');
    const from = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(from).toHaveLength(2);
    expect(from.every((f) => f.startsWith('node:20'))).toBe(true);
    const lines = text.split('\n');
    const user = lines.findLastIndex((l) => l.startsWith('USER '));
    expect(lines[user]).toBe('USER node');
    expect(user).toBeLessThan(lines.findIndex((l) => l.startsWith('ENTRYPOINT')));
    expect(text).toMatch(/^HEALTHCHECK /m);
    for (const m of text.matchAll(/^COPY (?!--from)(?:--chown=\S+ )?(.+) \S+$/gm)) {
      for (const src of m[1]!.split(' ')) expect(existsSync(src), src).toBe(true);
    }
    expect(readFileSync('.dockerignore', 'utf8')).toMatch(/^\.env$/m);
  });

  it('issue 14 #2: neither the image, compose nor systemd runs `start` (the sample feed) by default; the image prints usage', async () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    expect(cmd, 'Dockerfile CMD in exec form').toBeDefined();
    const args = z.array(z.string()).parse(JSON.parse(cmd!));
    expect(args).not.toContain('start');
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), errStream: { write: () => true }, env: {}, cwd: process.cwd() };
    expect(await runCli(args, io)).toBe(0);
    expect(out.join('\n')).toMatch(/^Usage: tutordex /m);
    for (const [name, s] of Object.entries(compose.services)) expect(s.command?.[0], name).not.toBe('start');
    for (const unit of ['deploy/tutordex-worker@.service', 'deploy/tutordex-live.service', 'deploy/tutordex-bot.service']) {
      expect(readFileSync(unit, 'utf8'), unit).not.toMatch(/^ExecStart=.*tutordex\.js start\b/m);
    }
  });

  it('systemd units stop workers with SIGTERM (they release their jobs) and restart on failure', () => {
    for (const unit of ['deploy/tutordex-worker@.service', 'deploy/tutordex-live.service', 'deploy/tutordex-bot.service']) {
      const text = readFileSync(unit, 'utf8');
      expect(text).toMatch(/^KillSignal=SIGTERM$/m);
      expect(text).toMatch(/^Restart=on-failure$/m);
      expect(text).toMatch(/^EnvironmentFile=/m);
    }
  });
});
