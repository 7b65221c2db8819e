import bigInt from 'big-integer';

/**
 * GramJS TL objects → plain JSON values, the one way they are stored.
 *
 * A TL object (anything with a `className`) becomes `{ _: className, ...its fields }`. Dropped: the TL
 * machinery (`CONSTRUCTOR_ID`, `SUBCLASS_OF_ID`, `classType`, `originalArgs`), the `flags` words (their bits
 * are the boolean fields next to them), functions, `undefined` fields, and every `_`-prefixed field, which is
 * where GramJS hangs client back-references and caches on custom objects (`_client`, `_chat`, `_sender`…).
 * big-integer → decimal string, bytes → base64, Date → ISO string. Unix dates inside TL objects are plain numbers
 * and stay numbers. A reference back to an object being serialised becomes the string `[Circular]`.
 */

const SKIPPED_KEYS = new Set(['CONSTRUCTOR_ID', 'SUBCLASS_OF_ID', 'classType', 'className', 'originalArgs', 'flags', 'flags2']);

/** `_` itself survives on plain objects, so converting already-converted JSON changes nothing. */
function isSkippedKey(key: string, isTl: boolean): boolean {
  if (SKIPPED_KEYS.has(key)) return true;
  return key === '_' ? isTl : key.startsWith('_');
}

export function toJson(value: unknown): unknown {
  return convert(value, new Set());
}

function convert(value: unknown, ancestors: Set<object>): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'object':
      return convertObject(value, ancestors);
    default:
      return null; // functions, symbols
  }
}

function convertObject(value: object, ancestors: Set<object>): unknown {
  if (bigInt.isInstance(value)) return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ancestors.has(value)) return '[Circular]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => convert(item, ancestors));
    const out: Record<string, unknown> = {};
    const className = (value as { className?: unknown }).className;
    const isTl = typeof className === 'string';
    if (isTl) out._ = className;
    for (const [key, field] of Object.entries(value)) {
      if (isSkippedKey(key, isTl) || field === undefined || typeof field === 'function') continue;
      out[key] = convert(field, ancestors);
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}
