import { ConfigError } from '../errors.ts';

/**
 * Channel references → one canonical identity.
 *
 * `t.me/<username>` in lower case (Telegram usernames are case-insensitive; the earlier system compared
 * them case-sensitively and lost data), or `t.me/c/<id>` for channels known only by numeric id.
 */

const USERNAME = /^[a-z][a-z0-9_]{3,31}$/;
const TELEGRAM_HOSTS = new Set(['t.me', 'www.t.me', 'telegram.me', 'www.telegram.me', 'telegram.dog']);

function stripQuotes(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) return t.slice(1, -1).trim();
  return t;
}

function fromNumericId(ref: string, original: string): string {
  // -100<id> is the "marked" form Telegram clients print for channels and supergroups.
  const marked = /^-100(\d+)$/.exec(ref);
  if (marked) return `t.me/c/${BigInt(marked[1]!).toString()}`;
  if (/^\d+$/.test(ref)) return `t.me/c/${BigInt(ref).toString()}`;
  throw new ConfigError(`not a channel reference: "${original}" (numeric ids must look like -1001234567890 or 1234567890)`);
}

/** Normalise one channel reference; throws ConfigError naming the reference when it is not one. */
export function normalizeChannelRef(input: string): string {
  const original = stripQuotes(String(input));
  if (original === '') throw new ConfigError('empty channel reference');
  let ref = original;

  if (/^-?\d+$/.test(ref)) return fromNumericId(ref, original);
  if (ref.startsWith('@')) ref = ref.slice(1);
  else {
    const withScheme = /^https?:\/\//i.test(ref) ? ref : /^[a-z0-9.-]+\.[a-z]+\//i.test(ref) ? `https://${ref}` : null;
    if (withScheme !== null) {
      let url: URL;
      try {
        url = new URL(withScheme);
      } catch {
        throw new ConfigError(`not a channel reference: "${original}"`);
      }
      if (!TELEGRAM_HOSTS.has(url.hostname.toLowerCase())) {
        throw new ConfigError(`not a channel reference: "${original}" (only t.me links are accepted)`);
      }
      const parts = url.pathname.split('/').filter(Boolean);
      if (parts[0] === 's') parts.shift(); // t.me/s/<name> is the public web preview of the channel
      const head = parts[0] ?? '';
      if (head.startsWith('+') || head.toLowerCase() === 'joinchat') {
        throw new ConfigError(`not a channel reference: "${original}" (invite links cannot be collected; use the channel's username or numeric id)`);
      }
      if (head === 'c') {
        const id = parts[1] ?? '';
        if (!/^\d+$/.test(id)) throw new ConfigError(`not a channel reference: "${original}"`);
        return fromNumericId(id, original);
      }
      ref = head; // later segments (message ids) are not part of the channel identity
    }
  }
  const name = ref.toLowerCase();
  if (!USERNAME.test(name)) {
    throw new ConfigError(`not a channel reference: "${original}" (expected @username, t.me/username, https://t.me/username or a numeric id)`);
  }
  return `t.me/${name}`;
}

/** Split a channel list written as comma-separated text or as a JSON array (lenient about quoting). */
export function splitChannelList(text: string | null | undefined): string[] {
  const t = (text ?? '').trim();
  if (t === '') return [];
  let items: string[];
  if (t.startsWith('[') && t.endsWith(']')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed)) items = parsed.map((x) => (x === null || x === undefined ? '' : String(x)));
    else items = t.slice(1, -1).split(',');
  } else {
    items = t.split(',');
  }
  return items.map(stripQuotes).filter((s) => s !== '');
}

/** Parse and normalise a channel list; duplicates (after normalisation) are removed, order kept. */
export function parseChannelList(text: string | null | undefined): string[] {
  const out: string[] = [];
  for (const item of splitChannelList(text)) {
    const link = normalizeChannelRef(item);
    if (!out.includes(link)) out.push(link);
  }
  return out;
}
