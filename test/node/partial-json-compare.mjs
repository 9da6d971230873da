// partial-json-compare.mjs - reads lines "PREFIX_JSON\tOURS_JSON_OR_STATUS" (JSON strings)
// and compares tokstream's closing of each prefix with the npm partial-json parser's
// parse(prefix, STR | ARR | OBJ) (partial strings, arrays and objects allowed, partial
// numbers and literals not: the semantics tks_partial_json documents). Prints the
// mismatches, then "compared N". Test-only (t_node_sdk.sh).
import fs from 'node:fs';
import { parse, STR, ARR, OBJ } from 'partial-json';

const norm = (v) => {
  if (typeof v === 'string') return v.replace(/[\uD800-\uDBFF\uFFFD]$/, '');
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
};
let n = 0;
const bad = [];
for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
  if (!line) continue;
  const [p, o] = line.split('\t').map((s) => JSON.parse(s));
  let theirs;
  try { theirs = parse(p, STR | ARR | OBJ); } catch { theirs = undefined; }
  let mine;
  try { mine = o.startsWith('!') ? undefined : JSON.parse(o); } catch { mine = 'INVALID'; }
  // Two documented differences, normalized away: partial-json keeps a lone high surrogate
  // where a \u pair was cut (tokstream drops the half character), and a UTF-8 character
  // cut in the prefix reaches JavaScript as U+FFFD (tokstream drops the cut bytes).
  theirs = norm(theirs);
  const a = JSON.stringify(theirs), b = JSON.stringify(mine);
  n++;
  if (a !== b && !(theirs === undefined && mine === undefined)) bad.push(`${JSON.stringify(p)}: partial-json ${a} tokstream ${b}`);
}
for (const b of bad.slice(0, 20)) console.log(b);
console.log(`compared ${n}, ${bad.length} differ`);
process.exitCode = bad.length ? 1 : 0;
