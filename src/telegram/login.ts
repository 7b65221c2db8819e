import { chmod, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import type { UserAuthParams } from 'telegram/client/auth.js';
import { StringSession } from 'telegram/sessions/index.js';
import { UserError } from '../errors.ts';
import { newTelegramClient } from './gramjs.ts';

export type Ask = (question: string, opts?: { secret?: boolean }) => Promise<string>;

/** The part of TelegramClient a login uses; tests pass a plain object. */
export interface LoginClient {
  session: { save(): unknown };
  start(params: UserAuthParams): Promise<void>;
  destroy(): Promise<unknown>;
}

export interface LoginOptions {
  apiId: number;
  apiHash: string;
  ask: Ask;
  print: (line: string) => void;
  /** also write the session string to this file, mode 0600 */
  saveTo?: string | null;
  clientFactory?: (session: StringSession, apiId: number, apiHash: string) => LoginClient;
}

/** Telegram answers a wrong code or password with an error; after this many the login stops. */
const MAX_REJECTIONS = 5;

/**
 * Interactive login: phone number, the code Telegram sends, and the two-step verification password when the
 * account has one. Returns the new StringSession string and prints it, which is this command's whole purpose
 * (nothing else may print or log a session).
 */
export async function runLogin(options: LoginOptions): Promise<string> {
  const { print } = options;
  const client = (options.clientFactory ?? newTelegramClient)(new StringSession(''), options.apiId, options.apiHash);
  let stopReason: Error | null = null;
  let rejections = 0;
  const ask: Ask = async (question, opts) => {
    try {
      return await options.ask(question, opts);
    } catch (err) {
      stopReason = err instanceof Error ? err : new Error(String(err));
      throw stopReason;
    }
  };

  print('Logging in to Telegram. Telegram will send a login code to your Telegram app (or by SMS).');
  let session: unknown;
  try {
    await client.start({
      phoneNumber: async () => (await ask('Phone number (international format, e.g. +6591234567): ')).trim(),
      phoneCode: async (viaApp) => (await ask(viaApp ? 'Login code (sent to your Telegram app): ' : 'Login code (sent by SMS): ')).trim(),
      password: (hint) => ask(hint ? `Two-step verification password (hint: ${hint}): ` : 'Two-step verification password: ', { secret: true }),
      firstAndLastNames: async () => {
        stopReason = new UserError('this phone number has no Telegram account; sign up in a Telegram app first');
        throw stopReason;
      },
      onError: async (err: Error) => {
        if (stopReason) return true;
        const message = err.message.split(options.apiHash).join('[redacted]');
        print(`Telegram: ${message}`);
        if (++rejections < MAX_REJECTIONS) return false; // GramJS asks again
        stopReason = new UserError(`Telegram login failed after ${rejections} attempts: ${message}`);
        return true;
      },
    });
    session = client.session.save();
  } catch (err) {
    throw loginError(stopReason ?? err);
  } finally {
    await client.destroy().catch(() => undefined);
  }

  if (typeof session !== 'string' || session === '') throw new UserError('the Telegram login finished without a session; try again');
  if (options.saveTo) await writeSecretFile(options.saveTo, `${session}\n`);
  printInstructions(print, session, options.saveTo ?? null);
  return session;
}

function loginError(err: unknown): UserError {
  if (err instanceof UserError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && (err.name === 'AbortError' || message === 'AUTH_USER_CANCEL')) return new UserError('Telegram login cancelled');
  return new UserError(`Telegram login failed: ${message}`);
}

function printInstructions(print: (line: string) => void, session: string, savedTo: string | null): void {
  print('');
  print('Logged in. Your session string (it gives full access to this Telegram account: keep it secret):');
  print('');
  print(session);
  print('');
  print('Put it into SESSION_STRING (for example in .env), or point TG_SESSION at a file that holds it.');
  if (savedTo) print(`It was also written to ${savedTo} (readable by you only).`);
}

/** Create or replace the file with mode 0600; chmod before writing covers a file that already existed. */
async function writeSecretFile(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
  await chmod(file, 0o600);
}

/**
 * Questions on the terminal. Secret answers are not echoed: the prompt is written, then everything readline
 * would echo while the answer is typed is dropped. Ctrl-C or end of input cancels the login.
 */
export function askFromTerminal(input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin, output: NodeJS.WritableStream = process.stdout): Ask {
  return async (question, opts = {}) => {
    let muted = false;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (!muted) output.write(chunk);
        done();
      },
    });
    const rl = createInterface({ input, output: sink, terminal: Boolean(input.isTTY) });
    const cancel = new AbortController();
    rl.on('SIGINT', () => cancel.abort());
    rl.on('close', () => cancel.abort());
    try {
      const answer = rl.question(question, { signal: cancel.signal });
      muted = Boolean(opts.secret); // the prompt is out; from here on only typed characters would be echoed
      const text = await answer;
      return opts.secret ? text : text.trim();
    } catch (err) {
      if (cancel.signal.aborted) throw new UserError('Telegram login cancelled');
      throw err;
    } finally {
      if (muted) output.write('\n');
      rl.close();
    }
  };
}
