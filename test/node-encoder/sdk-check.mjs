#!/usr/bin/env node
// sdk-check.mjs - the official SDKs assemble what `tokstream encode` writes into the
// message its JSON-lines deltas describe. Prints TAP.
//
//   node sdk-check.mjs CLI DATA_DIR [--streams N] [--seed S]
//
// For the hand-made test/data/encoder/*.jsonl and N seeded random streams per dialect:
// the deltas go through `CLI encode`, the SSE bytes (cut into random pieces) go into the
// SDK the way its HTTP layer hands them over for stream: true -
// Stream.fromSSEResponse(new Response(body)) - and the SDK's own accumulation
// (openai ChatCompletionStream, @anthropic-ai/sdk MessageStream) builds the final message.
// No network: the Response is in memory. The expected message is computed here from
// the deltas alone, not from tokstream.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Stream as OpenAIStream } from 'openai/core/streaming';
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { Stream as AnthropicStream } from '@anthropic-ai/sdk/core/streaming';
import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';

const [cli, dataDir, ...rest] = process.argv.slice(2);
let nStreams = 60;
let seed = 12345;
for (let i = 0; i < rest.length; i += 2) {
  if (rest[i] === '--streams') nStreams = Number(rest[i + 1]);
  else if (rest[i] === '--seed') seed = Number(rest[i + 1]);
}
if (!cli || !dataDir) {
  console.log('not ok 1 - usage: node sdk-check.mjs CLI DATA_DIR [--streams N] [--seed S]');
  console.log('1..1');
  process.exit(1);
}

let count = 0;
let failed = 0;
const ok = (pass, label, why) => {
  count++;
  if (!pass) failed++;
  console.log(`${pass ? 'ok' : 'not ok'} ${count} - ${label}`);
  if (!pass && why) for (const l of String(why).split('\n').slice(0, 12)) console.log(`#   ${l}`);
};

// ---- a seeded PRNG (mulberry32) -------------------------------------------------------
let rngState = seed >>> 0;
const rnd = () => {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const randInt = (n) => Math.floor(rnd() * n);

// Text pieces: control characters (no U+0000: the CLI's JSON reader ends strings there),
// quotes, backslashes, U+2028/9, emoji (ZWJ too), CJK, a BOM, markup, U+FFFD.
const PIECES = ['Hello', ' world', 'a', '"', '\\', '/', '\n', '\r\n', '\t', '\u2028', '\u2029',
  '\u00e9', '\u4e2d\u6587', '\ud83d\ude00', '\ud83d\udc69\u200d\ud83d\udcbb', '\ufeff',
  '</script>', '\ufffd', '\\u0041', '{"x":1}', ' ', '\u007f'];
const randText = () => {
  let s = '';
  const n = 1 + randInt(12);
  for (let i = 0; i < n; i++) {
    s += rnd() < 0.2 ? String.fromCharCode(1 + randInt(31)) : pick(PIECES);
  }
  return s;
};
const randValue = (depth) => {
  const r = randInt(depth > 2 ? 4 : 6);
  if (r === 0) return randText();
  if (r === 1) return randInt(1000) - 500;
  if (r === 2) return rnd() < 0.5;
  if (r === 3) return null;
  if (r === 4) return Array.from({ length: randInt(3) }, () => randValue(depth + 1));
  const o = {};
  for (let i = randInt(4); i > 0; i--) o[randText()] = randValue(depth + 1);
  return o;
};
// Cuts a string into pieces at code point boundaries (never inside a surrogate pair).
const cut = (s) => {
  const cps = Array.from(s);
  const out = [];
  for (let i = 0; i < cps.length;) {
    const k = 1 + randInt(8);
    out.push(cps.slice(i, i + k).join(''));
    i += k;
  }
  return out.length ? out : [''];
};

function randomStream(dialect) {
  const lines = [];
  const nChoices = dialect === 'anthropic' ? 1 : 1 + randInt(3);
  const tools = Array.from({ length: nChoices }, () => 0);
  if (rnd() < 0.5) lines.push({ usage: { input_tokens: randInt(5000) } });
  const ops = 1 + randInt(25);
  for (let i = 0; i < ops; i++) {
    const choice = randInt(nChoices);
    const c = nChoices > 1 ? { choice } : {};
    const k = randInt(dialect === 'anthropic' ? 6 : 5);
    if (k === 0) lines.push({ ...c, text: randText() });
    else if (k === 1) lines.push({ ...c, reasoning: randText() });
    else if (k === 2) lines.push({ ...c, refusal: randText() });
    else if (k === 5) lines.push({ signature: 'EqQBCgIYAhIM' + randInt(1e6) + '+/=' });
    else {
      const index = tools[choice]++;
      lines.push({ ...c, tool_call: { index, id: `call_${choice}_${index}`, name: pick(['get_weather', 'f', 'lookup', 'x.y-z']) } });
      // tool input is a JSON object (the Anthropic SDK parses each partial text as one)
      const args = JSON.stringify(Object.fromEntries(Array.from({ length: randInt(4) }, () => [randText(), randValue(1)])));
      for (const piece of cut(rnd() < 0.2 ? '{}' : args)) lines.push({ ...c, tool_args: { index, text: piece } });
    }
  }
  for (let ch = 0; ch < nChoices; ch++) {
    lines.push({ ...(nChoices > 1 ? { choice: ch } : {}), finish: pick(['stop', 'length', 'tool_calls']) });
  }
  if (rnd() < 0.7) lines.push({ usage: { input_tokens: randInt(5000), output_tokens: randInt(5000) } });
  if (rnd() < 0.5) lines.push({ done: true });
  return lines;
}

// ---- what the message must be, from the deltas alone ------------------------------------
const STOP = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' };

function expected(lines, dialect) {
  const choices = new Map();
  const ch = (i) => {
    if (!choices.has(i)) choices.set(i, { content: '', refusal: '', reasoning: '', signature: '', tools: [], finish: null });
    return choices.get(i);
  };
  const usage = { input: null, output: null };
  let error = null;
  for (const l of lines) {
    const c = ch(l.choice ?? 0);
    if (l.text != null) c.content += l.text;
    if (l.refusal != null) {
      if (dialect === 'anthropic') c.content += l.refusal; else c.refusal += l.refusal;
    }
    if (l.reasoning != null) c.reasoning += l.reasoning;
    if (l.signature != null) c.signature = l.signature; // the SDK keeps the last one
    if (l.tool_call) c.tools.push({ index: l.tool_call.index, id: l.tool_call.id, name: l.tool_call.name, args: '' });
    if (l.tool_args) c.tools.find((t) => t.index === l.tool_args.index).args += l.tool_args.text;
    if (l.finish) c.finish = dialect === 'anthropic' ? (STOP[l.finish] ?? l.finish) : l.finish;
    if (l.usage) {
      if (l.usage.input_tokens != null) usage.input = l.usage.input_tokens;
      if (l.usage.output_tokens != null) usage.output = l.usage.output_tokens;
    }
    if (l.error && !error) error = l.error.message;
  }
  if (choices.size === 0) ch(0);
  return { choices, usage, error };
}

// ---- the SDKs ---------------------------------------------------------------------------
// The SSE bytes as a Response body, cut into random pieces.
function sseResponse(bytes) {
  const body = new ReadableStream({
    start(ctrl) {
      for (let i = 0; i < bytes.length;) {
        const k = 1 + randInt(300);
        ctrl.enqueue(new Uint8Array(bytes.subarray(i, i + k)));
        i += k;
      }
      ctrl.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

async function openaiAssemble(bytes) {
  const reasoning = new Map();
  const runner = ChatCompletionStream.createChatCompletion({
    chat: { completions: { create: async () => OpenAIStream.fromSSEResponse(sseResponse(bytes), new AbortController()) } },
  }, { model: 'm-1', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
  // reasoning_content is not standard: the SDK passes it through each parsed chunk
  runner.on('chunk', (chunk) => {
    for (const c of chunk.choices ?? []) {
      if (typeof c.delta?.reasoning_content === 'string') {
        reasoning.set(c.index, (reasoning.get(c.index) ?? '') + c.delta.reasoning_content);
      }
    }
  });
  const final = await runner.finalChatCompletion();
  const choices = new Map();
  for (const c of final.choices) {
    choices.set(c.index, {
      content: c.message.content ?? '',
      refusal: c.message.refusal ?? '',
      reasoning: reasoning.get(c.index) ?? '',
      tools: (c.message.tool_calls ?? []).map((t) => ({ id: t.id, name: t.function.name, args: t.function.arguments })),
      finish: c.finish_reason,
      role: c.message.role,
    });
  }
  return { choices, usage: { input: final.usage?.prompt_tokens ?? null, output: final.usage?.completion_tokens ?? null } };
}

async function anthropicAssemble(bytes) {
  const runner = MessageStream.createMessage({
    create: () => ({
      withResponse: async () => {
        const response = sseResponse(bytes);
        return { response, data: AnthropicStream.fromSSEResponse(response, new AbortController()) };
      },
    }),
  }, { model: 'm-1', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
  const m = await runner.finalMessage();
  const c = { content: '', reasoning: '', signature: '', tools: [], finish: m.stop_reason, role: m.role };
  for (const b of m.content) {
    if (b.type === 'text') c.content += b.text;
    else if (b.type === 'thinking') { c.reasoning += b.thinking; if (b.signature) c.signature = b.signature; }
    else if (b.type === 'tool_use') c.tools.push({ id: b.id, name: b.name, input: b.input });
  }
  return { choices: new Map([[0, c]]), usage: { input: m.usage.input_tokens, output: m.usage.output_tokens } };
}

// Differences between the SDK's message and the expected one, in words.
function compare(got, want, dialect) {
  const why = [];
  const same = (what, a, b) => { if (!isDeepStrictEqual(a, b)) why.push(`${what}: got ${JSON.stringify(a)} want ${JSON.stringify(b)}`); };
  same('choices', [...got.choices.keys()].sort(), [...want.choices.keys()].sort());
  for (const [i, w] of want.choices) {
    const g = got.choices.get(i);
    if (!g) continue;
    same(`choice ${i} role`, g.role, 'assistant');
    same(`choice ${i} content`, g.content, w.content);
    same(`choice ${i} reasoning`, g.reasoning, w.reasoning);
    if (dialect === 'openai-chat') same(`choice ${i} refusal`, g.refusal, w.refusal);
    else same(`choice ${i} signature`, g.signature, w.signature);
    same(`choice ${i} finish`, g.finish, w.finish);
    same(`choice ${i} tool calls`, g.tools.length, w.tools.length);
    w.tools.forEach((t, k) => {
      const gt = g.tools[k] ?? {};
      same(`choice ${i} tool ${k} id`, gt.id, t.id);
      same(`choice ${i} tool ${k} name`, gt.name, t.name);
      if (dialect === 'openai-chat') same(`choice ${i} tool ${k} arguments`, gt.args, t.args);
      else same(`choice ${i} tool ${k} input`, gt.input, JSON.parse(t.args === '' ? '{}' : t.args));
    });
  }
  if (dialect === 'anthropic') {
    same('usage', got.usage, { input: want.usage.input ?? 0, output: want.usage.output ?? 0 });
  } else if (want.usage.input != null || want.usage.output != null) {
    same('usage', got.usage, { input: want.usage.input ?? 0, output: want.usage.output ?? 0 });
  } else {
    same('usage', got.usage, { input: null, output: null });
  }
  return why;
}

function encode(dialect, lines) {
  const input = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  return execFileSync(cli, ['encode', '--dialect', dialect, '--id', 'id-1', '--model', 'm-1', '--created', '1700000000', '-'],
    { input, maxBuffer: 1 << 28 });
}

async function check(dialect, lines) {
  const want = expected(lines, dialect);
  let bytes;
  try { bytes = encode(dialect, lines); } catch (e) { return [`tokstream encode failed: ${e.stderr ?? e.message}`]; }
  try {
    const got = dialect === 'anthropic' ? await anthropicAssemble(bytes) : await openaiAssemble(bytes);
    if (want.error) return [`the SDK accepted a stream with an error (${want.error})`];
    return compare(got, want, dialect);
  } catch (e) {
    if (want.error && String(e.message).includes(want.error)) return [];
    return [`the SDK threw: ${e.stack ?? e}`, `stream: ${bytes.toString().slice(0, 600)}`];
  }
}

// ---- the hand-made files, then random streams ------------------------------------------
const files = fs.readdirSync(dataDir).filter((f) => f.endsWith('.jsonl')).sort();
ok(files.length >= 5, `${files.length} hand-made delta files in ${dataDir}`);
for (const f of files) {
  const lines = fs.readFileSync(path.join(dataDir, f), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  for (const dialect of ['openai-chat', 'anthropic']) {
    if (dialect === 'anthropic' && lines.some((l) => (l.choice ?? 0) > 0)) continue;
    const why = await check(dialect, lines);
    const sdk = dialect === 'anthropic' ? '@anthropic-ai/sdk MessageStream' : 'openai ChatCompletionStream';
    ok(why.length === 0, `${f} -> ${dialect}: ${sdk} assembles the same ${lines.some((l) => l.error) ? 'error' : 'message'}`, why.join('\n'));
  }
}
for (const dialect of ['openai-chat', 'anthropic']) {
  let bad = 0;
  const whys = [];
  for (let s = 0; s < nStreams; s++) {
    const lines = randomStream(dialect);
    const why = await check(dialect, lines);
    if (why.length) {
      bad++;
      if (whys.length < 2) whys.push(`stream ${s}: ${why.join('; ')}`, `deltas: ${JSON.stringify(lines).slice(0, 800)}`);
    }
  }
  ok(bad === 0, `${nStreams} random ${dialect} streams (seed ${seed}; control characters, U+2028/9, emoji, tool arguments cut anywhere, SSE bytes cut into random pieces): the SDK assembles each to its deltas' message`, whys.join('\n'));
}
console.log(`1..${count}`);
process.exit(failed ? 1 : 0);
