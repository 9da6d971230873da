// sdk-compare.mjs FILE KIND ASSEMBLED.json - the official SDK's accumulation of the bytes
// of FILE (KIND openai or anthropic), through its public streaming helper over an
// in-memory Response, compared with tokstream's `assemble` output. Prints one line:
// "ok" or the differences. Test-only (t_node_sdk.sh).
import fs from 'node:fs';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const [file, kind, oursPath] = process.argv.slice(2);
const bytes = fs.readFileSync(file);
const ours = JSON.parse(fs.readFileSync(oursPath, 'utf8'));
const fetch = async () => new Response(bytes, { status: 200, headers: { 'content-type': 'text/event-stream' } });
const diffs = [];
const same = (what, a, b) => { if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${what}: sdk ${JSON.stringify(a)} ours ${JSON.stringify(b)}`); };
const text = (v) => (v === '' ? null : v ?? null); // an empty text and an absent one are alike

if (kind === 'openai') {
  const client = new OpenAI({ apiKey: 'test', fetch, maxRetries: 0 });
  const stream = client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: true } });
  const done = await stream.finalChatCompletion();
  same('id', done.id, ours.id);
  same('model', done.model, ours.model);
  same('choices', done.choices.length, ours.choices.length);
  for (const c of done.choices) {
    const o = ours.choices.find((x) => x.index === c.index) ?? {};
    same(`choice ${c.index} content`, text(c.message.content), text(o.content));
    same(`choice ${c.index} refusal`, text(c.message.refusal), text(o.refusal));
    same(`choice ${c.index} finish`, c.finish_reason, o.raw_finish_reason);
    const calls = c.message.tool_calls ?? [];
    same(`choice ${c.index} tool calls`, calls.map((t) => [t.id, t.function.name, t.function.arguments]),
      (o.tool_calls ?? []).map((t) => [t.id, t.name, t.arguments]));
  }
  if (done.usage) {
    same('usage', [done.usage.prompt_tokens, done.usage.completion_tokens, done.usage.total_tokens],
      [ours.usage?.input_tokens, ours.usage?.output_tokens, ours.usage?.total_tokens]);
  }
} else {
  const client = new Anthropic({ apiKey: 'test', fetch, maxRetries: 0 });
  const stream = client.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] });
  const m = await stream.finalMessage();
  const o = ours.choices[0] ?? {};
  same('id', m.id, ours.id);
  same('model', m.model, ours.model);
  same('role', m.role, o.role);
  const joined = (type, key) => { const s = m.content.filter((b) => b.type === type).map((b) => b[key]).join(''); return s === '' ? null : s; };
  same('text', joined('text', 'text'), text(o.content));
  same('thinking', joined('thinking', 'thinking'), text(o.reasoning));
  same('stop_reason', m.stop_reason, o.raw_finish_reason);
  const uses = m.content.filter((b) => b.type === 'tool_use');
  same('tool uses', uses.map((b) => [b.id, b.name, b.input]),
    (o.tool_calls ?? []).map((t) => [t.id, t.name, t.arguments === '' ? {} : JSON.parse(t.arguments)]));
  same('usage', [m.usage.input_tokens, m.usage.output_tokens], [ours.usage?.input_tokens, ours.usage?.output_tokens]);
}
console.log(diffs.length ? diffs.join('\n') : 'ok');
