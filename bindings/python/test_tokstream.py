#!/usr/bin/env python3
"""Tests of the tokstream Python binding (stdlib unittest).

Run:  python3 -m unittest -v test_tokstream         (from bindings/python)
      python3 test_tokstream.py --tap                (TAP, what test/t_python.sh runs)

Environment (all optional; defaults relative to this file):
  TKS_TOP        repository root
  TKS_BUILD      build directory (libtokstream.so, the tokstream CLI)
  TKS_TEST_DATA  test/data
  TKS_SHARED     ../shared (vocab goldens, provider fixtures); skipped when missing
  TOKSTREAM_LIB  the library to test; default $TKS_BUILD/libtokstream.so
  CC             C compiler for the struct layout check; default cc
"""

import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("TKS_TOP") or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("TKS_BUILD") or os.path.join(TOP, "build")
DATA = os.environ.get("TKS_TEST_DATA") or os.path.join(TOP, "test", "data")
SHARED = os.environ.get("TKS_SHARED") or os.path.join(os.path.dirname(TOP), "shared")
CLI = os.path.join(BUILD, "tokstream")
os.environ.setdefault("TOKSTREAM_LIB", os.path.join(BUILD, "libtokstream.so"))
sys.path.insert(0, HERE)

import tokstream  # noqa: E402
from tokstream import _ffi  # noqa: E402
from tokstream import Status, TokstreamError  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


def pieces(data, n):
    return [data[i:i + n] for i in range(0, len(data), n)]


def run_client(data, step=None, **kw):
    """Feeds data (whole, or in step-byte pieces) to a Client; returns
    (message dict, deltas, error or None)."""
    deltas = []
    err = None
    with tokstream.Client(**kw) as c:
        try:
            for p in ([data] if step is None else pieces(data, step)):
                deltas += c.push(p)
            deltas += c.finish()
        except TokstreamError as e:
            err = e
            deltas += e.deltas
        return c.message(), deltas, err


def cli_assemble(path):
    r = subprocess.run([CLI, "assemble", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return json.loads(r.stdout), r.returncode


def have_cli():
    return os.access(CLI, os.X_OK)


def client_files(d, exts=(".sse", ".ndjson", ".json", ".bin")):
    if not os.path.isdir(d):
        return []
    out = []
    for root, _dirs, files in os.walk(d):
        for f in sorted(files):
            if f.endswith(".expected.json") or f.endswith(".chunks.jsonl"):
                continue
            if f.endswith(exts):
                out.append(os.path.join(root, f))
    return sorted(out)


def slug(path, base):
    return os.path.relpath(path, base).replace("/", "_").replace("-", "_").replace(".", "_")


# ---- status codes and errors -------------------------------------------------------------

class TestStatus(unittest.TestCase):
    def test_enum_matches_library(self):
        names = {}
        for n in range(-256, 257):
            name = tokstream.status_name(n)
            if name != "UNKNOWN":
                names[n] = name
        self.assertEqual(names, {s.value: s.name for s in Status},
                         "the library's status table differs from tokstream.Status")
        for s in Status:
            self.assertTrue(tokstream.strerror(s))
        self.assertEqual(tokstream.strerror(12345), "unknown status")

    def test_error_object(self):
        e = TokstreamError(-7, "cut", 42)
        self.assertIs(e.code, Status.ETRUNC)
        self.assertEqual((e.name, e.message, e.offset), ("ETRUNC", "cut", 42))
        self.assertIn("ETRUNC", str(e))
        e = TokstreamError(-99)
        self.assertEqual(e.code, -99)
        self.assertEqual(e.message, "unknown status")

    def test_version(self):
        self.assertEqual(tokstream.version().count("."), 2)
        self.assertEqual(tokstream.version(), tokstream.__version__)


# ---- struct layouts and constants against the C compiler -------------------------------

# (C expression, value the binding uses)
CONSTANTS = [
    ("TKS_SSE_RAW_UTF8", _ffi.TKS_SSE_RAW_UTF8),
    ("TKS_DELTA_WHOLE", _ffi.TKS_DELTA_WHOLE),
    ("TKS_TOKEN_SPECIAL", _ffi.TKS_TOKEN_SPECIAL),
    ("TKS_DETOK_SKIP_SPECIAL", _ffi.TKS_DETOK_SKIP_SPECIAL),
    ("TKS_DETOK_SKIP_UNKNOWN", _ffi.TKS_DETOK_SKIP_UNKNOWN),
    ("TKS_DETOK_GRAPHEME", _ffi.TKS_DETOK_GRAPHEME),
    ("TKS_TIMER_NO_HISTOGRAMS", 0x1),
    ("TKS_CHUNK_CONTENT", tokstream.timer.CHUNK_CONTENT),
    ("TKS_CHUNK_REASONING", tokstream.timer.CHUNK_REASONING),
    ("TKS_TIMEOUT_FIRST_TOKEN", tokstream.timer.TIMEOUT_FIRST_TOKEN),
    ("TKS_TIMEOUT_IDLE", tokstream.timer.TIMEOUT_IDLE),
    ("TKS_TIMEOUT_TOTAL", tokstream.timer.TIMEOUT_TOTAL),
    ("TKS_NO_DEADLINE", tokstream.timer.NO_DEADLINE),
]
CONSTANTS += [(f"TKS_DELTA_{name.upper()}", n) for n, name in tokstream.client.DELTA_KINDS.items()]
CONSTANTS += [(f"TKS_FINISH_{name.upper()}", n) for n, name in tokstream.client.FINISH_REASONS.items()]
CONSTANTS += [(f"TKS_FRAMING_{name.upper().replace('-', '_')}", n)
              for name, n in tokstream.client.FRAMINGS.items()]
CONSTANTS += [(f"TKS_METRIC_{name.upper()}", n) for name, n in tokstream.timer.METRICS.items()
              if name != "tokens_per_s_milli"] + [("TKS_METRIC_TOKENS_PER_S", 11)]
CONSTANTS += [(f"TKS_OUTCOME_{name.upper()}", n) for n, name in tokstream.timer.OUTCOMES.items()]


class TestLayout(unittest.TestCase):
    """Every mirrored struct has the C size and every field the C offset; the constants
    the binding mirrors have their C values."""

    @classmethod
    def setUpClass(cls):
        cc = os.environ.get("CC") or "cc"
        if not shutil.which(cc):
            raise unittest.SkipTest(f"no C compiler ({cc})")
        lines = ['#include "tokstream.h"', "#include <stdio.h>", "#include <stddef.h>",
                 "int main(void) {"]
        for st in _ffi.MIRRORED:
            n = st.__name__
            lines.append(f'    printf("{n} %zu\\n", sizeof({n}));')
            for f, _t in st._fields_:
                lines.append(f'    printf("{n}.{f} %zu\\n", offsetof({n}, {f}));')
        for expr, _v in CONSTANTS:
            lines.append(f'    printf("={expr} %lld\\n", (long long)({expr}));')
        lines += ["    return 0;", "}"]
        cls.tmp = tempfile.mkdtemp(prefix="tks-py-")
        src = os.path.join(cls.tmp, "layout.c")
        exe = os.path.join(cls.tmp, "layout")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = subprocess.run([cc, "-std=c11", "-I", os.path.join(TOP, "include"), src, "-o", exe],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        cls.compile_error = r.stdout.decode(errors="replace") if r.returncode else None
        cls.c = {}
        if not cls.compile_error:
            out = subprocess.run([exe], stdout=subprocess.PIPE, check=True).stdout.decode()
            for line in out.splitlines():
                k, v = line.rsplit(" ", 1)
                cls.c[k] = int(v)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_compiles(self):
        self.assertIsNone(self.compile_error,
                          "a mirrored struct, field or constant is gone from tokstream.h")

    def test_struct_sizes_and_offsets(self):
        import ctypes
        self.assertIsNone(self.compile_error)
        for st in _ffi.MIRRORED:
            n = st.__name__
            with self.subTest(struct=n):
                self.assertEqual(ctypes.sizeof(st), self.c[n], f"sizeof({n})")
                for f, _t in st._fields_:
                    self.assertEqual(getattr(st, f).offset, self.c[f"{n}.{f}"],
                                     f"offsetof({n}, {f})")

    def test_constants(self):
        self.assertIsNone(self.compile_error)
        for expr, v in CONSTANTS:
            self.assertEqual(self.c["=" + expr], v, expr)


# ---- client -------------------------------------------------------------------------------

class TestClientFiles(unittest.TestCase):
    """Every stream of test/data/client (and, when present, the provider fixtures of
    ../shared/fixtures) assembled through the binding equals `tokstream assemble`."""

    def check_file(self, path, step):
        if not have_cli():
            self.skipTest(f"{CLI} not built")
        want, rc = cli_assemble(path)
        got, deltas, err = run_client(read(path), step)
        self.assertEqual(got, want)
        # the CLI exits 1 for a malformed or cut stream, or one that carries a provider's
        # in-band error (a delta, not a status: the message holds it)
        failed = err is not None or got["error"] is not None
        self.assertEqual(failed, rc != 0, f"binding error {err}, CLI exit {rc}")
        # the deltas seen on the way carry the same text the message holds
        if got["choices"] and len(got["choices"]) == 1:
            text = "".join(d.text for d in deltas if d.kind == "text")
            self.assertEqual(text, got["choices"][0]["content"] or "")

    @classmethod
    def add(cls, base, prefix):
        for path in client_files(base):
            name = slug(path, base)
            setattr(cls, f"test_{prefix}{name}_whole",
                    lambda self, p=path: self.check_file(p, None))
            setattr(cls, f"test_{prefix}{name}_7_bytes",
                    lambda self, p=path: self.check_file(p, 7))


TestClientFiles.add(os.path.join(DATA, "client"), "")
TestClientFiles.add(os.path.join(SHARED, "fixtures"), "shared_")


class TestClient(unittest.TestCase):
    def setUp(self):
        self.sse = read(os.path.join(DATA, "client", "openai-chat.sse"))

    def test_expected_files(self):
        """The .expected.json files next to the streams (the project's own answers)."""
        d = os.path.join(DATA, "client")
        for path in client_files(d):
            exp = path.rsplit(".", 1)[0] + ".expected.json"
            if os.path.exists(exp):
                with self.subTest(path=os.path.basename(path)):
                    got, _deltas, err = run_client(read(path), 1)
                    self.assertIsNone(err)
                    self.assertEqual(got, json.loads(read(exp)))

    def test_dialect_and_framing(self):
        cases = {"openai-chat.sse": ("openai-chat", "sse"),
                 "anthropic-tool.sse": ("anthropic", "sse"),
                 "ollama-chat.ndjson": ("ollama", "ndjson"),
                 "gemini-array.json": ("gemini", "json-array"),
                 "bedrock-converse.bin": ("bedrock", "eventstream")}
        for f, want in cases.items():
            with tokstream.Client() as c:
                self.assertEqual((c.dialect, c.framing), ("auto", "auto"))
                c.push(read(os.path.join(DATA, "client", f)))
                c.finish()
                self.assertEqual((c.dialect, c.framing), want, f)
                self.assertTrue(c.complete)

    def test_explicit_dialect(self):
        msg, _d, err = run_client(self.sse, None, dialect="openai-chat", framing="sse")
        self.assertIsNone(err)
        self.assertEqual(msg["dialect"], "openai-chat")
        with self.assertRaises(TokstreamError) as cm:
            tokstream.Client(dialect="no-such-dialect")
        self.assertEqual(cm.exception.code, Status.EINVAL)
        with self.assertRaises(TokstreamError):
            tokstream.Client(framing="xml")
        self.assertEqual(tokstream.dialect_number("anthropic"), 3)
        self.assertEqual(tokstream.dialect_name(6), "bedrock")
        self.assertIsNone(tokstream.dialect_name(99))

    def test_delta_fields(self):
        _m, deltas, err = run_client(self.sse)
        self.assertIsNone(err)
        kinds = [d.kind for d in deltas]
        self.assertEqual(kinds[0], "start")
        self.assertEqual(kinds[-1], "done")
        start = deltas[0]
        self.assertEqual((start.id, start.name), ("chatcmpl-demo42", "gpt-4o-mini-2024-07-18"))
        fin = [d for d in deltas if d.kind == "finish"][0]
        self.assertEqual((fin.finish, fin.text), ("stop", "stop"))
        usage = [d for d in deltas if d.kind == "usage"][-1]
        self.assertEqual((usage.input_tokens, usage.output_tokens, usage.total_tokens), (19, 15, 34))
        text = [d for d in deltas if d.kind == "text"]
        self.assertTrue(all(d.id is None and d.json is None for d in text))
        self.assertTrue(all(0 <= d.offset < len(self.sse) for d in deltas))
        # offsets are the event's input offset: non-decreasing
        self.assertEqual([d.offset for d in deltas], sorted(d.offset for d in deltas))

    def test_tool_call_deltas(self):
        _m, deltas, err = run_client(read(os.path.join(DATA, "client", "openai-tools-crlf.sse")), 5)
        self.assertIsNone(err)
        calls = [(d.index, d.id, d.name) for d in deltas if d.kind == "tool_call"]
        self.assertEqual(calls, [(0, "call_w1", "get_weather"), (1, "call_t2", "get_time")])
        args = "".join(d.text for d in deltas if d.kind == "tool_args" and d.index == 1)
        self.assertEqual(json.loads(args), {"tz": "CET"})

    def test_truncated_stream(self):
        """Each stream cut in the middle: TokstreamError with an offset, the message so
        far, both as `tokstream assemble` gives them. Cut 3 bytes short of its end, the
        binding still agrees with the CLI (a cut after the terminal marker, such as
        Bedrock's trailing metadata frame, is a complete message for the library)."""
        for f in client_files(os.path.join(DATA, "client")):
            data = read(f)
            for cut in (len(data) // 2, len(data) - 3):
                with self.subTest(file=os.path.basename(f), cut=cut):
                    msg, _d, err = run_client(data[:cut], 7)
                    if cut == len(data) // 2:
                        self.assertIsInstance(err, TokstreamError)
                        self.assertIn(err.code, (Status.ETRUNC, Status.EPROTO, Status.EJSON))
                        self.assertIsInstance(err.offset, int)
                        self.assertLessEqual(err.offset, cut)
                        self.assertTrue(err.message)
                        self.assertFalse(msg["complete"])
                    if have_cli():
                        with tempfile.NamedTemporaryFile(suffix=os.path.splitext(f)[1]) as t:
                            t.write(data[:cut])
                            t.flush()
                            want, rc = cli_assemble(t.name)
                        self.assertEqual(msg, want)
                        self.assertEqual(err is not None, rc != 0)

    def test_truncated_sse_is_etrunc_with_offset(self):
        cut = self.sse[: self.sse.index(b"\n\n", 400) + 1]  # mid-event: a field line, no blank
        with tokstream.Client() as c:
            c.push(cut)
            with self.assertRaises(TokstreamError) as cm:
                c.finish()
            e = cm.exception
            self.assertIs(e.code, Status.ETRUNC)
            self.assertEqual(e.offset, c.offset)
            self.assertGreater(e.offset, 0)
            self.assertLess(e.offset, len(cut))
            self.assertEqual(cut[e.offset:e.offset + 5], b"data:")
            self.assertFalse(c.message()["complete"])
            self.assertIn("byte", c.error)
            # sticky: finishing again reports the same
            with self.assertRaises(TokstreamError):
                c.finish()
            c.reset()
            c.push(self.sse)
            c.finish()
            self.assertTrue(c.message()["complete"])

    def test_malformed_stream_raises_on_push(self):
        data = bytearray(read(os.path.join(DATA, "client", "bedrock-converse.bin")))
        data[20] ^= 0xFF  # inside the first frame, after its prelude: the message CRC breaks
        with tokstream.Client() as c:
            with self.assertRaises(TokstreamError) as cm:
                c.push(bytes(data))
            self.assertEqual(cm.exception.code, Status.ECRC)
            self.assertEqual(cm.exception.offset, 0)
            with self.assertRaises(TokstreamError):  # sticky
                c.push(b"")

    def test_push_accepts_buffers(self):
        with tokstream.Client() as c:
            c.push(bytearray(self.sse[:10]))
            c.push(memoryview(self.sse)[10:])
            c.finish()
            self.assertTrue(c.complete)

    def test_push_after_finish(self):
        with tokstream.Client() as c:
            c.push(self.sse)
            c.finish()
            with self.assertRaises(TokstreamError) as cm:
                c.push(b"data: x\n\n")
            self.assertEqual(cm.exception.code, Status.ESTATE)

    def test_close_and_del(self):
        c = tokstream.Client()
        c.push(self.sse[:100])
        c.close()
        c.close()
        self.assertTrue(c.closed)
        with self.assertRaises(TokstreamError) as cm:
            c.push(b"x")
        self.assertEqual(cm.exception.code, Status.ESTATE)
        for _ in range(200):  # dropped without close: __del__ frees, no cycle keeps it
            c = tokstream.Client(on_delta=lambda d: None)
            c.push(self.sse[:500])
        del c
        gc.collect()

    def test_timer_attached(self):
        clock = iter(range(1000, 10**9, 1000))
        with tokstream.Timer(clock=lambda: next(clock)) as tm:
            tm.mark_sent(0)
            with tokstream.Client(timer=tm) as c:
                c.push(self.sse)
                c.finish()
            r = tm.results()
            self.assertEqual(r["outcome"], "ok")
            self.assertEqual(r["output_tokens"], 15)  # from usage
            self.assertEqual(r["input_tokens"], 19)
            self.assertGreater(r["chunks"], 1)
            self.assertGreater(r["ttft"], 0)
            self.assertIsNone(tm.clock_error)
        # a timer closed while a client still marks it is freed after the client
        tm = tokstream.Timer()
        c = tokstream.Client(timer=tm)
        tm.close()
        self.assertTrue(tm.closed)
        c.push(self.sse)
        c.finish()
        c.close()
        with self.assertRaises(TokstreamError):
            tm.results()


# ---- callbacks: stop, exceptions, re-entrancy ---------------------------------------------

class Boom(Exception):
    pass


class TestCallbacks(unittest.TestCase):
    def setUp(self):
        self.sse = read(os.path.join(DATA, "client", "openai-chat.sse"))

    def test_client_callback_exception(self):
        seen = []

        def cb(d):
            seen.append(d.kind)
            if d.kind == "text":
                raise Boom("from the callback")

        with tokstream.Client(on_delta=cb) as c:
            with self.assertRaises(Boom):
                c.push(self.sse)
            self.assertTrue(c.stopped)
            self.assertEqual(seen.count("text"), 1)  # the push stopped at once
            self.assertEqual(c.push(self.sse), [])  # stays stopped (TKS_STOPPED)
            self.assertTrue(c.stopped)
            self.assertEqual(len(seen), seen.index("text") + 1)
            c.reset()
            self.assertFalse(c.stopped)

    def test_client_callback_exception_in_7_byte_pieces(self):
        n = 0

        def cb(d):
            nonlocal n
            n += 1
            if n == 5:
                raise KeyError("five")

        raised = 0
        with tokstream.Client(on_delta=cb) as c:
            for p in pieces(self.sse, 7):
                try:
                    c.push(p)
                except KeyError:
                    raised += 1
            self.assertEqual(raised, 1)
            self.assertEqual(n, 5)
            self.assertEqual(c.finish(), [])
            self.assertTrue(c.stopped)

    def test_client_callback_stop(self):
        texts = []

        def cb(d):
            if d.kind == "text":
                texts.append(d.text)
                return len(texts) == 2  # stop after the second text delta

        with tokstream.Client(on_delta=cb) as c:
            out = c.push(self.sse)
            self.assertTrue(c.stopped)
            self.assertEqual(len(texts), 2)
            self.assertEqual(out[-1].kind, "text")
            self.assertEqual(c.message()["choices"][0]["content"], texts[0])

    def test_reentrant_push_is_refused(self):
        holder = {}

        def cb(d):
            holder["c"].push(b"")

        with tokstream.Client(on_delta=cb) as c:
            holder["c"] = c
            with self.assertRaises(TokstreamError) as cm:
                c.push(self.sse)
            self.assertEqual(cm.exception.code, Status.ESTATE)
            self.assertTrue(c.stopped)

    def test_detok_callback_exception(self):
        v = tokstream.Vocab.from_tiktoken(read(os.path.join(DATA, "vocab", "tiny.tiktoken")))

        def cb(t):
            raise Boom(t)

        with tokstream.Detok(v, on_text=cb) as d:
            with self.assertRaises(Boom) as cm:
                d.push([0, 1])
            self.assertEqual(str(cm.exception), "Hello")
            self.assertEqual(d.push([1]), "")
            self.assertTrue(d.stopped)

    def test_sse_callback_exception(self):
        def cb(ev):
            raise Boom(ev.data)

        with tokstream.SSEParser(on_event=cb) as p:
            with self.assertRaises(Boom):
                p.push(b"data: a\n\ndata: b\n\n")
            self.assertTrue(p.stopped)
            self.assertEqual(p.push(b"data: c\n\n"), [])

    def test_base_exception_is_kept(self):
        def cb(d):
            raise KeyboardInterrupt

        with tokstream.Client(on_delta=cb) as c:
            with self.assertRaises(KeyboardInterrupt):
                c.push(self.sse)


# ---- vocabulary and detokenizer -------------------------------------------------------------

def vocab_path(name):
    return os.path.join(DATA, "vocab", name)


def load_vocab(path):
    if path.endswith(".tiktoken"):
        return tokstream.Vocab.from_tiktoken(read(path))
    return tokstream.Vocab.from_hf_json(read(path))


def decodes(vocab, ids, **kw):
    """The same ids decoded whole, one id per push and split at every point: all equal."""
    outs = []
    with tokstream.Detok(vocab, **kw) as d:
        outs.append(d.push(ids) + d.finish())
        d.reset()
        outs.append("".join(d.push(i) for i in ids) + d.finish())
        for k in range(1, len(ids)):
            d.reset()
            outs.append(d.push(ids[:k]) + d.push(ids[k:]) + d.finish())
    return outs


class TestDetok(unittest.TestCase):
    # (vocab file, ids, skip_special, expected text): worked out from each file's tokens
    # and its decoder rules.
    CASES = [
        ("bytelevel.json", [0, 1], False, "Hello world"),
        ("bytelevel.json", [0, 10, 1], False, "Hello<|end|> world"),
        ("bytelevel.json", [0, 10, 1], True, "Hello world"),
        ("bytelevel.json", [4, 5], False, "\U0001F44B"),
        ("bytelevel.json", [0, 4], False, "Hello\uFFFD"),
        ("spm_bytefallback.json", [9, 10], False, "Hello world"),
        ("spm_bytefallback.json", [14, 15, 16], False, "\u4E2D"),
        ("wordpiece.json", [3, 4], False, "hello world"),
        ("wordpiece.json", [6, 5], False, "playing"),
        ("wordpiece.json", [3, 7], False, "hello."),
        ("wordpiece.json", [1, 3, 2], True, "hello"),
        ("wordlevel.json", [1, 2, 3], False, "a b c"),
        ("metaspace_first.json", [1, 2], False, "Hello world"),
        ("metaspace_never.json", [1, 2], False, " Hello world"),
        ("tiny.tiktoken", [0, 1], False, "Hello world"),
        ("tiny.tiktoken", [2, 3, 4], False, "\U0001F44B!"),
        ("tiny.tiktoken", [2], False, "\uFFFD"),
    ]

    def test_hand_cases(self):
        vocabs = {}
        for name, ids, skip, want in self.CASES:
            with self.subTest(vocab=name, ids=ids, skip_special=skip):
                if name not in vocabs:
                    vocabs[name] = load_vocab(vocab_path(name))
                for got in decodes(vocabs[name], ids, skip_special=skip):
                    self.assertEqual(got, want)

    def test_against_cli(self):
        """Every loadable vocabulary of test/data/vocab, several id sequences, with and
        without skip_special: the binding's text equals `tokstream detok`'s."""
        if not have_cli():
            self.skipTest(f"{CLI} not built")
        rnd = random.Random(7)
        files = sorted(f for f in os.listdir(os.path.join(DATA, "vocab"))
                       if (f.endswith(".json") or f.endswith(".tiktoken"))
                       and not f.startswith("unsupported"))
        self.assertGreaterEqual(len(files), 10)
        for f in files:
            v = load_vocab(vocab_path(f))
            known = [i for i in range(len(v)) if v.token(i) is not None]
            seqs = [known, known[::-1]] + [[rnd.choice(known) for _ in range(rnd.randint(1, 12))]
                                           for _ in range(6)]
            for ids in seqs:
                for skip in (False, True):
                    with self.subTest(vocab=f, ids=ids, skip_special=skip):
                        args = [CLI, "detok", "--vocab", vocab_path(f)] + \
                               (["--skip-special"] if skip else []) + ["-"]
                        r = subprocess.run(args, input=" ".join(map(str, ids)).encode(),
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                        self.assertEqual(r.returncode, 0, r.stderr)
                        for got in decodes(v, ids, skip_special=skip)[:2]:
                            self.assertEqual(got.encode("utf-8"), r.stdout)

    def test_unsupported_decoders(self):
        for f in ("unsupported_ctc.json", "unsupported_regex.json"):
            with self.subTest(f=f):
                with self.assertRaises(TokstreamError) as cm:
                    tokstream.Vocab.from_hf_json(read(vocab_path(f)))
                self.assertEqual(cm.exception.code, Status.EUNSUPPORTED)
                self.assertTrue(cm.exception.message)

    def test_bad_json(self):
        with self.assertRaises(TokstreamError) as cm:
            tokstream.Vocab.from_hf_json(b'{"model": {"type": "BPE", "vocab": {"a": 0}')
        self.assertEqual(cm.exception.code, Status.EJSON)
        self.assertIsInstance(cm.exception.offset, int)
        with self.assertRaises(TokstreamError) as cm:
            tokstream.Vocab.from_tiktoken(b"SGVsbG8= 0\nnot base64! 1\n")
        self.assertEqual(cm.exception.code, Status.EPROTO)
        self.assertEqual(cm.exception.offset, 11)

    def test_unknown_id(self):
        v = load_vocab(vocab_path("tiny.tiktoken"))
        with tokstream.Detok(v) as d:
            self.assertEqual(d.push([0]), "Hello")
            with self.assertRaises(TokstreamError) as cm:
                d.push([1, 99999, 1])
            self.assertEqual(cm.exception.code, Status.ENOTFOUND)
            self.assertEqual(cm.exception.offset, 2)
            self.assertIn("99999", cm.exception.message)
        with tokstream.Detok(v, skip_unknown=True) as d:
            self.assertEqual(d.decode([0, 99999, 1]), "Hello world")

    def test_specials_and_add(self):
        sp = tokstream.tiktoken_specials("cl100k_base")
        self.assertEqual(sp["<|endoftext|>"], 100257)
        with self.assertRaises(TokstreamError) as cm:
            tokstream.tiktoken_specials("p50k_nope")
        self.assertEqual(cm.exception.code, Status.ENOTFOUND)
        v = tokstream.Vocab.from_tiktoken(read(vocab_path("tiny.tiktoken")),
                                          specials={"<|endoftext|>": 25})
        self.assertEqual(v.token(25), (b"<|endoftext|>", True))
        self.assertEqual(v.token(0), (b"Hello", False))
        self.assertIsNone(v.token(24))
        self.assertEqual(tokstream.Detok(v).decode([0, 25, 1]), "Hello world")
        self.assertEqual(tokstream.Detok(v, skip_special=False).decode([0, 25]),
                         "Hello<|endoftext|>")
        w = tokstream.Vocab()
        w.add(0, "ab")
        w.add(1, b"\xe2\x82")
        w.add(2, b"\xac!")
        w.add(3, "<eos>", special=True)
        self.assertEqual(len(w), 4)
        d = tokstream.Detok(w)
        self.assertEqual(d.push([0, 1]), "ab")  # the unfinished euro sign is held
        self.assertEqual(d.push([2, 3]), "\u20ac!")
        self.assertEqual(d.finish(), "")

    def test_prime(self):
        v = load_vocab(vocab_path("spm_bytefallback.json"))
        with tokstream.Detok(v) as d:
            self.assertEqual(d.decode([9, 10]), "Hello world")
            d.reset()
            d.prime([9])  # the prompt ended with "Hello": " world" keeps its space
            self.assertEqual(d.decode([10]), " world")
            with self.assertRaises(TokstreamError) as cm:
                d.prime([9])
            self.assertEqual(cm.exception.code, Status.ESTATE)

    def test_vocab_outlives_close_while_used(self):
        v = load_vocab(vocab_path("tiny.tiktoken"))
        d = tokstream.Detok(v)
        v.close()  # freed later: d still uses it
        self.assertTrue(v.closed)
        with self.assertRaises(TokstreamError):
            len(v)
        self.assertEqual(d.decode([0, 1]), "Hello world")
        d.close()
        self.assertTrue(v.closed)
        d2 = tokstream.Detok(load_vocab(vocab_path("tiny.tiktoken")))  # only d2 holds it
        gc.collect()
        self.assertEqual(d2.decode([0]), "Hello")


GOLDEN = {
    "cl100k_base": ("cl100k_base.tiktoken", "cl100k_base"),
    "o200k_base": ("o200k_base.tiktoken", "o200k_base"),
    "llama3": ("llama3.tokenizer.json", None),
    "mistral7b": ("mistral7b.tokenizer.json", None),
}


class TestDetokGolden(unittest.TestCase):
    """../shared/vocab/golden: reference decodes of four real vocabularies."""

    def check_golden(self, name):
        gdir = os.path.join(SHARED, "vocab", "golden")
        gfile = os.path.join(gdir, name + ".jsonl")
        vfile, enc = GOLDEN[name]
        vpath = os.path.join(SHARED, "vocab", vfile)
        if not (os.path.exists(gfile) and os.path.exists(vpath)):
            self.skipTest(f"{gfile} or {vpath} missing")
        if enc:
            v = tokstream.Vocab.from_tiktoken(read(vpath), specials=enc)
        else:
            v = tokstream.Vocab.from_hf_json(read(vpath))
        n = 0
        with open(gfile, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                case = json.loads(line)
                n += 1
                with self.subTest(case=case["name"]):
                    skip = bool(case.get("skip_special"))
                    with tokstream.Detok(v, skip_special=skip) as d:
                        self.assertEqual(d.decode(case["ids"]), case["decoded"])
                        d.reset()
                        one = "".join(d.push(i) for i in case["ids"]) + d.finish()
                        self.assertEqual(one, case["decoded"])
                    with tokstream.Detok(v, skip_special=skip, grapheme=True) as d:
                        self.assertEqual(d.decode(case["ids"]), case["decoded"])
        self.assertGreater(n, 10)


for _g in GOLDEN:
    setattr(TestDetokGolden, f"test_{_g}", lambda self, g=_g: self.check_golden(g))


# ---- SSE parser ---------------------------------------------------------------------------

def sse_log(path, step=None):
    """The events of an SSE file in the E|type|id|data / C|text / R|ms / =STATUS lines of
    test/data/sse/*.expected."""
    def esc(s):
        out = []
        for ch in s.encode("utf-8", "surrogateescape"):
            c = chr(ch)
            if c == "\\":
                out.append("\\\\")
            elif c == "|":
                out.append("\\|")
            elif c == "\n":
                out.append("\\n")
            elif c == "\r":
                out.append("\\r")
            elif ch == 0:
                out.append("\\0")
            elif ch < 0x20 or ch == 0x7F:
                out.append("\\x%02x" % ch)
            else:
                out.append(None)
                out[-1] = bytes([ch])
        return b"".join(x if isinstance(x, bytes) else x.encode() for x in out)

    lines = []
    data = read(path)
    with tokstream.SSEParser(comments=True, retries=True) as p:
        evs = []
        try:
            for chunk in ([data] if step is None else pieces(data, step)):
                evs += p.push(chunk)
            evs += p.finish()
            status = b"=OK"
        except TokstreamError as e:
            evs += e.deltas
            status = b"=%s@%d" % (e.name.encode(), e.offset)
        for ev in evs:
            if ev.kind == "comment":
                lines.append(b"C|" + esc(ev.data))
            elif ev.kind == "retry":
                lines.append(b"R|%d" % ev.retry_ms)
            else:
                lines.append(b"E|" + esc(ev.type) + b"|" + esc(ev.id) + b"|" + esc(ev.data))
    lines.append(status)
    return b"\n".join(lines) + b"\n"


class TestSSE(unittest.TestCase):
    def test_expected_files(self):
        d = os.path.join(DATA, "sse")
        files = sorted(f for f in os.listdir(d) if f.endswith(".sse"))
        self.assertGreaterEqual(len(files), 4)
        for f in files:
            want = read(os.path.join(d, f[:-4] + ".expected"))
            for step in (None, 1, 7):
                with self.subTest(file=f, step=step):
                    self.assertEqual(sse_log(os.path.join(d, f), step), want)

    def test_basic(self):
        with tokstream.SSEParser() as p:
            evs = p.push(b"\xef\xbb\xbfid: 7\r\nevent: delta\r\ndata: a\r\ndata:b\r\n\r\n: ping\n")
            self.assertEqual([(e.type, e.data, e.id, e.offset) for e in evs],
                             [("delta", "a\nb", "7", 3)])
            self.assertEqual(p.last_id, "7")
            evs = p.push(b"data: \xff\xfe x\n")  # invalid UTF-8 becomes U+FFFD
            self.assertEqual(evs, [])
            evs = p.push(b"\n")
            self.assertEqual(evs[0].data, "\ufffd\ufffd x")
            self.assertEqual(evs[0].type, "message")
            self.assertEqual(p.finish(), [])

    def test_cr_lf_across_pushes(self):
        with tokstream.SSEParser() as p:
            self.assertEqual(p.push(b"data: x\r"), [])
            self.assertEqual([e.data for e in p.push(b"\n\r\n")], ["x"])
            p.finish()

    def test_every_split(self):
        data = read(os.path.join(DATA, "client", "anthropic-tool.sse"))
        with tokstream.SSEParser() as p:
            whole = p.push(data) + p.finish()
            self.assertGreater(len(whole), 5)
            for k in range(0, len(data), 13):
                p.reset()
                got = p.push(data[:k]) + p.push(data[k:]) + p.finish()
                self.assertEqual(got, whole, k)

    def test_truncated(self):
        with tokstream.SSEParser() as p:
            self.assertEqual(len(p.push(b"data: a\n\ndata: b\n")), 1)
            with self.assertRaises(TokstreamError) as cm:
                p.finish()
            self.assertIs(cm.exception.code, Status.ETRUNC)
            self.assertEqual(cm.exception.offset, 9)

    def test_raw_utf8(self):
        with tokstream.SSEParser(raw_utf8=True) as p:
            ev = p.push(b"data: \xff\n\n")[0]
            self.assertEqual(ev.data.encode("utf-8", "surrogateescape"), b"\xff")

    def test_limits(self):
        with tokstream.SSEParser(max_line=16) as p:
            with self.assertRaises(TokstreamError) as cm:
                p.push(b"data: " + b"x" * 64 + b"\n\n")
            self.assertEqual(cm.exception.code, Status.ELIMIT)


# ---- timer ----------------------------------------------------------------------------------

class TestTimer(unittest.TestCase):
    def test_marks_and_results(self):
        with tokstream.Timer() as t:
            t.mark_enqueued(50)
            t.mark_sent(100)
            t.mark_first_byte(150)
            t.mark_chunk(200, 0)            # role-only chunk: moves nothing
            t.mark_chunk(300, 1, content=False, reasoning=True)
            t.mark_chunk(400, 2)
            t.mark_chunk(600, 1)
            t.mark_usage(10, 4)
            t.mark_end(700)
            r = t.results()
            self.assertEqual(r["outcome"], "ok")
            self.assertEqual(t.outcome, "ok")
            self.assertEqual((r["ttfc"], r["ttft"], r["ttft_reasoning"]), (200, 300, 200))
            self.assertEqual((r["e2el"], r["duration"], r["queue"]), (500, 600, 50))
            self.assertEqual((r["output_tokens"], r["chunk_tokens"], r["chunks"]), (4, 4, 3))
            self.assertEqual(r["tpot"], 100)   # (600 - 300) / (4 - 1)
            self.assertEqual(t.get("tpot"), 100)
            self.assertEqual(r["input_tokens"], 10)
            self.assertEqual(r["first_byte_ns"], 150)
            with self.assertRaises(TokstreamError) as cm:
                t.mark_chunk(800, 1)
            self.assertEqual(cm.exception.code, Status.ESTATE)

    def test_undefined_and_errors(self):
        with tokstream.Timer() as t:
            t.mark_sent(100)
            self.assertIsNone(t.get("ttft"))
            self.assertIsNone(t.results()["ttft"])
            with self.assertRaises(TokstreamError) as cm:
                t.mark_chunk(50, 1)  # backwards
            self.assertEqual(cm.exception.code, Status.EINVAL)
            self.assertEqual(t.outcome, "error")
            with self.assertRaises(TokstreamError):
                t.get("nope")

    def test_timeouts(self):
        with tokstream.Timer(first_token_ns=1000, total_ns=5000) as t:
            t.mark_sent(0)
            self.assertEqual(t.deadline(), 1000)
            self.assertEqual(t.expired(999), 0)
            self.assertEqual(t.expired(1000) & tokstream.timer.TIMEOUT_FIRST_TOKEN,
                             tokstream.timer.TIMEOUT_FIRST_TOKEN)
            t.mark_chunk(500, 1)
            self.assertEqual(t.deadline(), 5000)
        with tokstream.Timer() as t:
            self.assertIsNone(t.deadline())
            self.assertGreater(tokstream.now_ns(), 0)
            self.assertGreater(t.now(), 0)


# ---- TAP ------------------------------------------------------------------------------------

class TapResult(unittest.TestResult):
    """One `ok N - name` line per test (failing subtests fail their test)."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.n = 0

    def _out(self, s):
        self.stream.write(s + "\n")
        self.stream.flush()

    def startTest(self, test):
        super().startTest(test)
        self._bad = []
        self._skip = None

    def _fail(self, test, err, what=""):
        text = self._exc_info_to_string(err, test)
        self._bad.append((what, text))

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(test, err, subtest._subDescription())

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._skip = reason

    def stopTest(self, test):
        super().stopTest(test)
        self.n += 1
        name = test.id().replace("__main__.", "").replace("test_tokstream.", "")
        if self._bad:
            self._out(f"not ok {self.n} - {name}")
            for what, text in self._bad[:5]:
                for line in ((what + "\n" if what else "") + text).rstrip().splitlines():
                    self._out("# " + line)
        elif self._skip is not None:
            self._out(f"ok {self.n} - {name} # SKIP {self._skip}")
        else:
            self._out(f"ok {self.n} - {name}")


def run_tap():
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    print(f"1..{suite.countTestCases()}", flush=True)
    print(f"# library {tokstream.library_path}", flush=True)
    result = TapResult(sys.stdout)
    suite.run(result)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    if "--tap" in sys.argv[1:]:
        sys.exit(run_tap())
    unittest.main()
