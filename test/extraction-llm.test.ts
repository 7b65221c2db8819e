import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/config.ts';
import { emptyLlmAssignment, type LlmAssignment } from '../src/extraction/schema.ts';
import { ExtractionError } from '../src/extraction/types.ts';
import {
  BUNDLED_PROMPT_PATH,
  CircuitBreaker,
  FewShotExamples,
  LlmExtractor,
  MemoryReuseStore,
  PromptConfigError,
  buildUserMessage,
  parseReply,
  resolveSystemPrompt,
  type LlmExtractorOptions,
} from '../src/extraction/llm/index.ts';
import { preferredObject } from '../src/extraction/llm/json-scan.ts';

const FIXTURES = path.resolve('test/fixtures/message_examples');

const VALID: LlmAssignment = {
  ...emptyLlmAssignment(),
  assignment_code: 'A123',
  academic_display_text: 'P5 Math',
  learning_mode: { mode: 'Face-to-Face', raw_text: 'home tuition' },
  address: ['Blk 123 Yishun Ave 1'],
  rate: { min: 40, max: 50, raw_text: '$40-50/hr' },
};
const VALID_JSON = JSON.stringify(VALID);

// ── fake OpenAI-compatible server ─────────────────────────────────────────────
type Handler = (req: IncomingMessage, res: ServerResponse, body: any) => void;
let server: Server;
let baseUrl: string;
let handlers: Handler[] = [];
let fallbackHandler: Handler | null = null;
let requests: any[] = [];

function completion(content: string | null, extra: Record<string, unknown> = {}) {
  return {
    id: 'x',
    object: 'chat.completion',
    created: 0,
    model: 'test-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', ...extra }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}
const ok =
  (content: string | null, extra: Record<string, unknown> = {}): Handler =>
  (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(completion(content, extra)));
  };
const status =
  (code: number, headers: Record<string, string> = {}, message = 'nope'): Handler =>
  (_q, res) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error: { message, type: 'test' } }));
  };
const hang: Handler = () => {};
function script(...hs: Handler[]) {
  handlers = hs;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return status(404)(req, res, null);
      const body = JSON.parse(raw);
      requests.push(body);
      const h = handlers.shift() ?? fallbackHandler ?? status(500, {}, 'no script');
      h(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  handlers = [];
  fallbackHandler = null;
  requests = [];
});

function llmConfig(over: Partial<Config['llm']> = {}): Config['llm'] {
  return {
    apiUrl: baseUrl,
    model: 'test-model',
    apiKey: null,
    timeoutSeconds: 2,
    maxTokens: 512,
    systemPromptText: null,
    systemPromptFile: null,
    includeExamples: false,
    examplesDir: null,
    examplesVariant: null,
    breakerThreshold: 5,
    breakerTimeoutSeconds: 60,
    ...over,
  };
}
function extractor(over: Partial<Config['llm']> = {}, opts: LlmExtractorOptions = {}) {
  return new LlmExtractor(llmConfig(over), { backoffBaseMs: 20, backoffMaxMs: 100, reuseStore: null, ...opts });
}
const ctx = { channelLink: 't.me/someagency' };

async function failure(p: Promise<unknown>): Promise<ExtractionError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ExtractionError);
    return e as ExtractionError;
  }
  throw new Error('expected an ExtractionError');
}
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = Date.now();
  const v = await fn();
  return [v, Date.now() - t];
}

// ── reply parsing (pure) ──────────────────────────────────────────────────────
describe('preferredObject', () => {
  it.each([
    ['```json\n{"a": 1}\n```', '{"a": 1}'],
    ['Here you go: {"a": {"b": 2}} trailing', '{"a": {"b": 2}}'],
    ['{"a": 1} and then {"b": 2}', '{"b": 2}'],
    ['<think>{"x":1}</think>\nAnswer {"a": 1}{"b":2}', '{"a": 1}'],
    ['He said "hi {" then {"a": 1}', '{"a": 1}'],
  ])('%j → %s', (reply, expected) => {
    expect(preferredObject(reply)?.text).toBe(expected);
  });

  it('L2: closed think block with a decoy → the object after the tag', () => {
    const r = '\n<think>\nThe model considered {"wrong": true} while reasoning.\n</think>\n{"assignment_code": "0706pe", "rate": {"min": 40, "max": 55}}\n';
    expect(preferredObject(r)?.text).toBe('{"assignment_code": "0706pe", "rate": {"min": 40, "max": 55}}');
  });

  it('L3: unclosed think block → the last balanced object (the final answer)', () => {
    const r =
      '\n<think>\nThe model considered {"wrong": true} while reasoning but forgot to close the tag.\nFinal answer:\n{"assignment_code": "0606ep", "academic_display_text": "Sec 1 G3 Science"}\n';
    expect(preferredObject(r)?.text).toBe('{"assignment_code": "0606ep", "academic_display_text": "Sec 1 G3 Science"}');
  });

  it('a truncated answer after </think> is repaired, never replaced by the reasoning decoy', () => {
    const c = preferredObject('<think>{"x":1}</think> {"a": {"b": 1}');
    expect(c).toMatchObject({ text: '{"a": {"b": 1}', truncated: true });
  });
});

describe('parseReply', () => {
  it('accepts a valid object', () => {
    const r = parseReply(VALID_JSON);
    expect(r).toEqual({ ok: true, value: VALID, repaired: [] });
  });

  it('prose, fences, reasoning and markdown underscores', () => {
    const withUnderscore = JSON.stringify({ ...VALID, assignment_code: 'A_1' }).replace('A_1', 'A\\\\_1');
    for (const reply of [
      `Sure! Here is the JSON:\n${VALID_JSON}\nHope this helps.`,
      `\`\`\`json\n${VALID_JSON}\n\`\`\``,
      `<think>maybe {"assignment_code": "WRONG"}</think>\n${VALID_JSON}`,
      `<reasoning>x</reasoning>${VALID_JSON}`,
    ]) {
      const r = parseReply(reply);
      expect(r.ok && r.value).toEqual(VALID);
    }
    const r = parseReply(withUnderscore.replace('\\\\_', '\\_'));
    expect(r.ok && r.value.assignment_code).toBe('A_1');
  });

  it('repairs trailing commas and smart quotes', () => {
    const r1 = parseReply(VALID_JSON.replace(/null}$/, 'null,\n}').replace('"raw_text":"$40-50/hr"}', '"raw_text":"$40-50/hr", }'));
    expect(r1.ok).toBe(true);
    expect(r1.ok && r1.repaired).toContain('trailing_commas');
    const r2 = parseReply(VALID_JSON.replace(/"assignment_code":"A123"/, '\u201Cassignment_code\u201D:\u201CA123\u201D'));
    expect(r2.ok && r2.value.assignment_code).toBe('A123');
    expect(r2.ok && r2.repaired).toContain('smart_quotes');
  });

  it('repairs a truncated tail by dropping the half-written value and filling missing keys with null', () => {
    const cut = '{"assignment_code": "A1", "academic_display_text": "P5 Math", "learning_mode": {"mode": "Online", "raw_text": "onl';
    const r = parseReply(cut);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.assignment_code).toBe('A1');
    expect(r.value.learning_mode).toEqual({ mode: 'Online', raw_text: null });
    expect(r.value.rate).toEqual({ min: null, max: null, raw_text: null });
    expect(r.repaired).toContain('closed_truncated');
  });

  it('drops extra keys (time_availability included) and coerces harmless type slips', () => {
    const obj = {
      ...VALID,
      time_availability: { explicit: {} },
      confidence: 0.9,
      rate: { min: '40', max: '$50', raw_text: '$40-50', currency: 'SGD' },
      address: 'Yishun',
      assignment_code: 1673,
      learning_mode: { mode: 'online', raw_text: 'zoom' },
    };
    const r = parseReply(JSON.stringify(obj));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual({
      ...VALID,
      rate: { min: 40, max: 50, raw_text: '$40-50' },
      address: ['Yishun'],
      assignment_code: '1673',
      learning_mode: { mode: 'Online', raw_text: 'zoom' },
    });
    expect(Object.keys(r.value)).not.toContain('time_availability');
    expect(r.repaired).toEqual(
      expect.arrayContaining([
        'dropped_key:time_availability',
        'dropped_key:confidence',
        'dropped_key:rate.currency',
        'string_to_number:rate.min',
        'string_to_list:address',
      ]),
    );
  });

  it('typed failures carry a ≤300-char snippet', () => {
    const cases: Array<[string, string]> = [
      ['', 'llm_empty_reply'],
      ['   \n', 'llm_empty_reply'],
      ['<THINK>hmm</Think> no json after', 'llm_invalid_json'],
      ['{"assignment_code": "A1" "x" ::: }', 'llm_invalid_json'],
      [JSON.stringify({ ...VALID, rate: { min: 'forty', max: null, raw_text: null } }), 'llm_schema_mismatch'],
      [JSON.stringify({ ...VALID, learning_mode: { mode: 'Telepathy', raw_text: null } }), 'llm_schema_mismatch'],
      ['{"foo": 1}', 'llm_schema_mismatch'],
      [`${'x'.repeat(1000)}{"foo": [1, 2`, 'llm_schema_mismatch'],
    ];
    for (const [reply, type] of cases) {
      const r = parseReply(reply);
      expect(r.ok, reply).toBe(false);
      if (r.ok) continue;
      expect(r.error.type, reply).toBe(type);
      expect(r.error.transient).toBe(false);
      expect(typeof r.error.details.snippet).toBe('string');
      expect(Array.from(r.error.details.snippet as string).length).toBeLessThanOrEqual(300);
    }
  });

  it('a non-object JSON reply is an error, not an empty success', () => {
    for (const reply of ['[1, 2]', '"just a string"']) {
      const r = parseReply(reply);
      expect(r.ok).toBe(false);
    }
  });
});

// ── prompt ────────────────────────────────────────────────────────────────────
describe('prompt assembly', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'llm-prompt-'));

  it('precedence: LLM_SYSTEM_PROMPT_TEXT > LLM_SYSTEM_PROMPT_FILE > bundled', () => {
    writeFileSync(path.join(tmp, 'p.txt'), '  file prompt  \n');
    const both = resolveSystemPrompt({ systemPromptText: ' inline prompt ', systemPromptFile: 'p.txt', baseDir: tmp });
    expect(both).toMatchObject({ text: 'inline prompt', source: 'env:LLM_SYSTEM_PROMPT_TEXT' });
    const file = resolveSystemPrompt({ systemPromptText: '   ', systemPromptFile: 'p.txt', baseDir: tmp });
    expect(file.text).toBe('file prompt');
    expect(file.source).toContain('env:LLM_SYSTEM_PROMPT_FILE');
    const bundled = resolveSystemPrompt({ systemPromptText: null, systemPromptFile: null });
    expect(bundled.source).toBe('bundled:system-prompt.txt');
    expect(bundled.text).toContain('assignment_code');
    expect(bundled.message.startsWith(bundled.text)).toBe(true);
    expect(bundled.message).toContain('"additional_remarks"'); // the schema is appended
    expect(BUNDLED_PROMPT_PATH.endsWith('system-prompt.txt')).toBe(true);
  });

  it('a missing LLM_SYSTEM_PROMPT_FILE is a clear error, not a silent fallback to the bundled prompt', () => {
    expect(() => resolveSystemPrompt({ systemPromptText: null, systemPromptFile: 'nope.txt', baseDir: tmp })).toThrow(PromptConfigError);
    expect(() => new LlmExtractor(llmConfig({ systemPromptFile: path.join(tmp, 'nope.txt') }))).toThrow(/not found/);
  });

  it('fingerprints: prompt {sha256, chars, source} changes with prompt text and model', () => {
    const a = new LlmExtractor(llmConfig({ systemPromptText: 'prompt A' })).promptFingerprint;
    const b = new LlmExtractor(llmConfig({ systemPromptText: 'prompt B' })).promptFingerprint;
    const c = new LlmExtractor(llmConfig({ systemPromptText: 'prompt A', model: 'other' })).promptFingerprint;
    expect(a).toMatchObject({ chars: 8, source: 'env:LLM_SYSTEM_PROMPT_TEXT' });
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set([a.sha256, b.sha256, c.sha256]).size).toBe(3);
  });

  it('examples: per-agency file chosen by the channel in its header, general.txt fallback, none without parseable examples', () => {
    const ex = new FewShotExamples({ includeExamples: true, examplesDir: FIXTURES, examplesVariant: null });
    const mindflex = ex.forChannel('https://t.me/TuitionAssignmentsSG/123?x=1');
    expect(mindflex?.file).toBe('mindflex.txt');
    expect(mindflex?.fingerprint.source).toContain('mindflex.txt');
    expect(mindflex?.block).toMatch(/^Example 1:\nRaw:\n/);
    expect(mindflex?.block).not.toContain('time_availability');
    expect(ex.forChannel('@cocoassignments')?.file).toBe('cocoassignments.txt');
    expect(ex.forChannel('t.me/unknown_agency')).toBeNull(); // no general.txt in the fixtures: send none

    const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-ex-'));
    writeFileSync(path.join(dir, 'general.txt'), 'Example 1:\nRaw: P3 Math @ Bishan\nJSON:\n{"assignment_code": null, "academic_display_text": "P3 Math"}\n');
    writeFileSync(path.join(dir, 'empty.txt'), '# Empty (t.me/emptyagency)\nExample 1:\nRaw:\nJSON:\n');
    const ex2 = new FewShotExamples({ includeExamples: true, examplesDir: dir, examplesVariant: null });
    expect(ex2.forChannel('t.me/unknown')?.file).toBe('general.txt');
    expect(ex2.forChannel('t.me/emptyagency')?.file).toBe('general.txt');
    expect(new FewShotExamples({ includeExamples: false, examplesDir: dir, examplesVariant: null }).forChannel('t.me/x')).toBeNull();
    expect(() => new FewShotExamples({ includeExamples: true, examplesDir: dir, examplesVariant: 'v9' })).toThrow(/VARIANT/);
    expect(() => new LlmExtractor(llmConfig({ includeExamples: true, examplesDir: path.join(dir, 'missing') }))).toThrow(/examples folder not found/);
    mkdirSync(path.join(dir, 'v2'));
    writeFileSync(path.join(dir, 'v2', 'general.txt'), 'Example 1:\nRaw: Sec 2 Chem\nJSON:\n{"academic_display_text": "Sec 2 Chem"}\n');
    expect(new FewShotExamples({ includeExamples: true, examplesDir: dir, examplesVariant: 'v2' }).forChannel(null)?.block).toContain('Sec 2 Chem');
  });

  it('user message layout: examples block, instructions, message verbatim between triple quotes', () => {
    const rule = '\u2500'.repeat(40);
    const msg = 'P5 Math {"tricky"} """ inside';
    const plain = buildUserMessage(msg, null);
    expect(plain).not.toContain('examples'); // no "examples above" when none are sent
    expect(plain).toContain(`${rule}\nBEGIN TARGET MESSAGE\n${rule}\n"""\n${msg}\n"""\n${rule}\nEND TARGET MESSAGE\n${rule}`);
    const withEx = buildUserMessage(msg, 'Example 1:\nRaw:\nx\nJSON:\n{}');
    expect(withEx).toMatch(new RegExp(`^These are Raw -> JSON examples.*\\n.*\\n${rule}\\nBEGIN EXAMPLES\\n${rule}\\n\\nExample 1:`));
    expect(withEx).toContain(`END EXAMPLES\n${rule}\n\n\n\nExtract only from the TARGET MESSAGE below.`);
  });
});

// ── the HTTP path ─────────────────────────────────────────────────────────────
describe('LlmExtractor against a fake OpenAI-compatible server', () => {
  it('valid JSON: request body has model, temperature 0, json_schema response_format, system+user messages', async () => {
    script(ok(VALID_JSON));
    const res = await extractor().extract('  P5 Math at Yishun, $40-50/hr \r\n', ctx);
    expect(res.assignment).toEqual(VALID);
    expect(res.meta).toMatchObject({
      extractor: 'llm',
      model: 'test-model',
      attempts: 1,
      cache_hit: false,
      examples: null,
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    });
    expect(res.meta.prompt?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(res.meta.latency_ms).toBeGreaterThanOrEqual(0);
    const body = requests[0];
    expect(body.model).toBe('test-model');
    expect(body.temperature).toBe(0);
    expect(body.max_tokens).toBe(512);
    expect(body.response_format.type).toBe('json_schema');
    expect(body.response_format.json_schema).toMatchObject({ strict: true, name: 'assignment' });
    expect(body.response_format.json_schema.schema.required).toContain('additional_remarks');
    expect(body.messages.map((m: any) => m.role)).toEqual(['system', 'user']);
    expect(body.messages[0].content).toContain('Output exactly one JSON object');
    expect(body.messages[1].content).toContain('"""\nP5 Math at Yishun, $40-50/hr\n"""');
  });

  it('examples are sent for the channel and fingerprinted in meta', async () => {
    script(ok(VALID_JSON));
    const res = await extractor({ includeExamples: true, examplesDir: FIXTURES }).extract('P5 Math', { channelLink: 't.me/tuitionassignmentssg' });
    expect(res.meta.examples).toMatchObject({ source: expect.stringContaining('mindflex.txt') });
    expect(requests[0].messages[1].content).toContain('BEGIN EXAMPLES');
  });

  it.each([
    ['prose around JSON', `Here you go:\n${VALID_JSON}\nDone.`, []],
    ['code fences', `\`\`\`json\n${VALID_JSON}\n\`\`\``, []],
    ['reasoning block', `<think>consider {"assignment_code":"NO"}</think>${VALID_JSON}`, ['stripped_reasoning']],
    ['trailing commas', VALID_JSON.replace(/null}$/, 'null,}'), ['trailing_commas']],
    ['extra keys', JSON.stringify({ ...VALID, extra: 1 }), ['dropped_key:extra']],
    ['wrong types', JSON.stringify({ ...VALID, rate: { ...VALID.rate, min: '40' } }), ['string_to_number:rate.min']],
  ])('%s → repaired', async (_name, content, repairs) => {
    script(ok(content));
    const res = await extractor().extract('P5 Math', ctx);
    expect(res.assignment).toEqual(VALID);
    for (const r of repairs) expect(res.meta.repaired).toContain(r);
  });

  it('truncated JSON (finish_reason length) → repaired', async () => {
    script(ok(VALID_JSON.slice(0, VALID_JSON.indexOf('"rate"') + 20), { finish_reason: 'length' }));
    const res = await extractor().extract('P5 Math', ctx);
    expect(res.assignment.academic_display_text).toBe('P5 Math');
    expect(res.meta.finish_reason).toBe('length');
    expect(res.meta.repaired).toContain('closed_truncated');
  });

  it.each([
    ['empty reply', 'llm_empty_reply', ''],
    ['null content', 'llm_empty_reply', null],
    ['no JSON at all', 'llm_invalid_json', 'I cannot help with that.'],
    ['unfixable types', 'llm_schema_mismatch', JSON.stringify({ ...VALID, address: { street: 'x' } })],
  ])('%s → %s, not transient, breaker not counting it', async (_n, type, content) => {
    script(ok(content));
    const ext = extractor({ breakerThreshold: 1 });
    const err = await failure(ext.extract('P5 Math', ctx));
    expect(err.type).toBe(type);
    expect(err.transient).toBe(false);
    expect((err.details.meta as any).model).toBe('test-model');
    expect(ext.breaker.state()).toBe('closed');
  });

  it('a 200 with a non-JSON or choice-less body → typed non-transient error, no crash', async () => {
    script((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('<html>proxy page</html>');
    });
    expect(await failure(extractor().extract('x', ctx))).toMatchObject({ type: 'llm_bad_response', transient: false });
    script((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"outputs": []}');
    });
    const err = await failure(extractor().extract('x', ctx));
    expect(err).toMatchObject({ type: 'llm_bad_response', transient: false });
    expect(err.details.response_keys).toEqual(['outputs']);
  });

  it('HTTP 500 then success → retried, attempts 2', async () => {
    script(status(500), ok(VALID_JSON));
    const res = await extractor().extract('P5 Math', ctx);
    expect(res.meta.attempts).toBe(2);
    expect(requests).toHaveLength(2);
  });

  it('HTTP 500 forever → llm_http_5xx, transient, bounded attempts and time', async () => {
    fallbackHandler = status(503);
    const [err, ms] = await timed(() => failure(extractor().extract('P5 Math', ctx)));
    expect(err).toMatchObject({ type: 'llm_http_5xx', transient: true });
    expect(requests).toHaveLength(3);
    expect(ms).toBeLessThan(2000);
  });

  it('429 with retry-after is honoured, then succeeds', async () => {
    script(status(429, { 'retry-after': '1' }), ok(VALID_JSON));
    const [res, ms] = await timed(() => extractor().extract('P5 Math', ctx));
    expect(res.meta.attempts).toBe(2);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(3000);
  });

  it('429 asking for a long wait → llm_rate_limited at once, carrying retry_after_ms', async () => {
    script(status(429, { 'retry-after': '3600' }));
    const [err, ms] = await timed(() => failure(extractor().extract('P5 Math', ctx)));
    expect(err).toMatchObject({ type: 'llm_rate_limited', transient: true });
    expect(err.details.retry_after_ms).toBe(3_600_000);
    expect(ms).toBeLessThan(1000);
  });

  it('a hang longer than the timeout → llm_timeout, bounded', async () => {
    fallbackHandler = hang;
    const [err, ms] = await timed(() => failure(extractor({ timeoutSeconds: 0.3 }, { maxAttempts: 2 }).extract('P5 Math', ctx)));
    expect(err).toMatchObject({ type: 'llm_timeout', transient: true });
    expect(requests).toHaveLength(2);
    expect(ms).toBeGreaterThanOrEqual(550);
    expect(ms).toBeLessThan(2000);
    server.closeAllConnections();
  });

  it('the caller abort signal ends a hanging call quickly', async () => {
    fallbackHandler = hang;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const [err, ms] = await timed(() => failure(extractor({ timeoutSeconds: 10 }).extract('P5 Math', { channelLink: null, signal: ac.signal })));
    expect(err).toMatchObject({ type: 'llm_aborted', transient: true });
    expect(ms).toBeLessThan(1000);
    server.closeAllConnections();
  });

  it('connection refused → llm_connection, transient', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await failure(extractor({ apiUrl: `http://127.0.0.1:${port}` }).extract('P5 Math', ctx));
    expect(err).toMatchObject({ type: 'llm_connection', transient: true });
  });

  it('400 on response_format → falls back to json_object once and remembers it', async () => {
    script(status(400, {}, "'response_format' json_schema not supported"), ok(VALID_JSON), ok(VALID_JSON));
    const ext = extractor();
    const res = await ext.extract('P5 Math', ctx);
    expect(res.meta.response_format).toBe('json_object');
    expect(requests.map((r) => r.response_format?.type)).toEqual(['json_schema', 'json_object']);
    await ext.extract('P5 Math', ctx);
    expect(requests[2].response_format.type).toBe('json_object');
  });

  it('a 400 in every mode → llm_http_4xx, not transient, mode not downgraded', async () => {
    fallbackHandler = status(400, {}, 'context length exceeded');
    const ext = extractor();
    const err = await failure(ext.extract('P5 Math', ctx));
    expect(err).toMatchObject({ type: 'llm_http_4xx', transient: false });
    expect(requests.map((r) => r.response_format?.type)).toEqual(['json_schema', 'json_object', undefined]);
    expect(ext.client.responseFormat).toBe('json_schema');
  });
});

// ── circuit breaker ───────────────────────────────────────────────────────────
describe('circuit breaker', () => {
  it('closed → open after N transient failures → stays open → half-open single probe → closed on success', () => {
    let now = 0;
    const b = new CircuitBreaker({ threshold: 3, timeoutMs: 1000, now: () => now });
    for (let i = 0; i < 2; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.onFailure();
    }
    expect(b.state()).toBe('closed');
    b.tryAcquire();
    b.onFailure();
    expect(b.state()).toBe('open');
    expect(b.isOpen()).toBe(true);
    now = 999;
    expect(b.tryAcquire()).toBe(false);
    expect(b.retryInMs()).toBe(1);
    now = 1000;
    expect(b.state()).toBe('half_open');
    expect(b.isOpen()).toBe(false);
    expect(b.tryAcquire()).toBe(true); // the probe
    expect(b.isOpen()).toBe(true); // nobody else while it runs
    expect(b.tryAcquire()).toBe(false);
    b.onSuccess();
    expect(b.state()).toBe('closed');
    expect(b.stats()).toMatchObject({ total_failures: 3, total_successes: 1, total_rejected: 2, consecutive_failures: 0 });
  });

  it('a failed probe re-opens at once (no fresh run of N full-timeout calls)', () => {
    let now = 0;
    const b = new CircuitBreaker({ threshold: 5, timeoutMs: 100, now: () => now });
    for (let i = 0; i < 5; i++) b.onFailure();
    now = 100;
    expect(b.tryAcquire()).toBe(true);
    b.onFailure();
    expect(b.state()).toBe('open');
  });

  it('while open the extractor fails fast with a TRANSIENT llm_circuit_open, no HTTP call', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ threshold: 2, timeoutMs: 5000, now: () => now });
    fallbackHandler = status(500);
    const ext = extractor({}, { breaker, maxAttempts: 1 });
    for (let i = 0; i < 2; i++) expect((await failure(ext.extract(`m${i}`, ctx))).type).toBe('llm_http_5xx');
    expect(ext.breaker.isOpen()).toBe(true);
    const before = requests.length;
    const [err, ms] = await timed(() => failure(ext.extract('m3', ctx)));
    expect(err).toMatchObject({ type: 'llm_circuit_open', transient: true });
    expect(err.details.retry_in_ms).toBe(5000);
    expect(requests.length).toBe(before);
    expect(ms).toBeLessThan(100);
    now = 5000; // half-open: one probe, the backend is back
    fallbackHandler = ok(VALID_JSON);
    const res = await ext.extract('m4', ctx);
    expect(res.assignment).toEqual(VALID);
    expect(ext.breaker.state()).toBe('closed');
  });
});

// ── reuse ─────────────────────────────────────────────────────────────────────
describe('LLM reuse', () => {
  it('a second identical call makes no HTTP request and reports cache_hit', async () => {
    script(ok(VALID_JSON), ok(VALID_JSON));
    const ext = extractor({}, { reuseStore: new MemoryReuseStore() });
    const first = await ext.extract('P5 Math\r\n', ctx);
    const second = await ext.extract('  P5 Math\n', ctx);
    expect(first.meta.cache_hit).toBe(false);
    expect(second.meta.cache_hit).toBe(true);
    expect(second.assignment).toEqual(VALID);
    expect(requests).toHaveLength(1);
    await ext.extract('P6 Science', ctx);
    expect(requests).toHaveLength(2);
  });

  it('a different prompt or model does not reuse the answer; LRU evicts the oldest', async () => {
    const store = new MemoryReuseStore(2);
    fallbackHandler = ok(VALID_JSON);
    await extractor({ systemPromptText: 'A' }, { reuseStore: store }).extract('same', ctx);
    await extractor({ systemPromptText: 'B' }, { reuseStore: store }).extract('same', ctx);
    await extractor({ systemPromptText: 'A', model: 'm2' }, { reuseStore: store }).extract('same', ctx);
    expect(requests).toHaveLength(3);
    expect(store.size).toBe(2);
  });

  it('a failing or hanging store counts as a miss, bounded in time', async () => {
    fallbackHandler = ok(VALID_JSON);
    const bad = {
      get: () => new Promise<null>(() => {}),
      put: async () => {
        throw new Error('db down');
      },
    };
    const [res, ms] = await timed(() => extractor({}, { reuseStore: bad, storeTimeoutMs: 100 }).extract('x', ctx));
    expect(res.meta.cache_hit).toBe(false);
    expect(ms).toBeLessThan(1000);
  });
});
