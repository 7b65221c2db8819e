import { expect, it } from 'vitest';
import { assertNoSecrets, leakedSecrets, TEST_SECRETS } from './support/secrets.ts';
import { cliWorkspace } from './support/cli.ts';

it('the secret scan finds a leaked test secret and names only its first characters', () => {
  expect(leakedSecrets('all quiet')).toEqual([]);
  expect(leakedSecrets(`token=${TEST_SECRETS[2]}`)).toEqual([TEST_SECRETS[2]]);
  expect(() => assertNoSecrets('a log', `Bearer ${TEST_SECRETS[9]}`)).toThrow(/^a log leaked test secret\(s\): s3cret…$/);
});

it('a command given every kind of secret prints none of them, even when it fails', async () => {
  const ws = cliWorkspace({
    SESSION_STRING: '1BVtsOK8Bu-super-secret',
    TELEGRAM_BOT_TOKEN: '123:secret-token',
    LLM_API_KEY: 'sk-test-secret-key',
    TELEGRAM_API_HASH: 'abcdef0123456789hash',
    DASHBOARD_TOKEN: 'dash-secret-token',
  });
  const config = await ws.run(['config']); // cliWorkspace.run itself fails the test on a leak
  expect(config.code).toBe(0);
  const failing = await ws.run(['worker', '--oneshot', '--broadcast']); // no BROADCAST_CHAT_ID
  expect(failing.code).toBe(2);
});
