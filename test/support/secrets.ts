import { afterAll } from 'vitest';

/**
 * The secrets the test suite hands to TutorDex (session strings, bot tokens, API keys, dashboard tokens). None
 * may ever appear in a log line, an error or command output (issue 8 item 3): every CLI run and worker log of
 * the tests is checked, and so is everything written to the real stdout/stderr during the run.
 */
export const TEST_SECRETS = [
  '1BVtsOK8Bu-super-secret',
  '1BVtsOK8Bu-secret-session',
  '123456:AAbottokensecret',
  '123:AAsecret-token',
  '123456:fake-token',
  '123:secret-token',
  'sk-test-secret-key',
  'abcdef0123456789hash',
  'dash-secret-token',
  's3cret-token',
];

export function leakedSecrets(text: string): string[] {
  return TEST_SECRETS.filter((s) => text.includes(s));
}

/** Throw when output carries a test secret. */
export function assertNoSecrets(where: string, text: string): void {
  const leaked = leakedSecrets(text);
  if (leaked.length) throw new Error(`${where} leaked test secret(s): ${leaked.map((s) => `${s.slice(0, 6)}…`).join(', ')}`);
}

// Everything the process writes to its real streams during a test file is scanned too.
const seen: string[] = [];
for (const stream of [process.stdout, process.stderr]) {
  const original = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  (stream as { write: unknown }).write = (chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
    for (const s of leakedSecrets(text)) seen.push(s);
    return original(chunk, ...rest);
  };
}
afterAll(() => {
  if (seen.length) throw new Error(`test secrets reached stdout/stderr: ${[...new Set(seen)].map((s) => `${s.slice(0, 6)}…`).join(', ')}`);
});
