"""tks_vocab and tks_detok: token ids in, valid UTF-8 text out."""

from __future__ import annotations

import array
import ctypes
from typing import Callable, Iterable, Optional

from . import _ffi
from ._base import _Object
from ._ffi import Status, TokstreamError, lib


def tiktoken_specials(encoding: str) -> dict:
    """The built-in special tokens of a tiktoken encoding ("cl100k_base", "o200k_base")
    as {name: id}; TokstreamError(ENOTFOUND) for another name."""
    arr = ctypes.POINTER(_ffi.tks_special_token)()
    n = ctypes.c_size_t(0)
    rc = lib.tks_vocab_tiktoken_specials(encoding.encode(), ctypes.byref(arr), ctypes.byref(n))
    if rc < 0:
        raise TokstreamError(rc, f"no built-in special tokens for {encoding!r}")
    return {arr[i].name.decode("utf-8"): arr[i].id for i in range(n.value)}


class Vocab(_Object):
    """A decode-only vocabulary (tks_vocab). Build one with from_hf_json, from_tiktoken,
    or Vocab() then add(). Read-only once filled: any number of Detoks may share it; it
    is freed only when it is closed (or dropped) and no Detok uses it any more."""

    _prefix = "vocab"

    def __init__(self, *, max_tokens: int = 0, max_bytes: int = 0, strip_start: int = 0):
        super().__init__()
        cfg = _ffi.tks_vocab_config()
        cfg.max_tokens = max_tokens
        cfg.max_bytes = max_bytes
        cfg.strip_start = strip_start
        self._create(lib.tks_vocab_new, ctypes.byref(cfg))

    def _load(self, rc: int):
        if rc < 0:
            try:
                self._raise(rc)
            finally:
                self.close()  # a failed load must be freed (tks_vocab_new(3))
        return self

    @classmethod
    def from_hf_json(cls, data, **cfg) -> "Vocab":
        """Loads a Hugging Face tokenizer.json (bytes or str). TokstreamError on failure
        (EJSON, EPROTO, EUNSUPPORTED for a decoder it cannot reproduce, ...)."""
        b = data.encode() if isinstance(data, str) else bytes(data)
        v = cls(**cfg)
        return v._load(lib.tks_vocab_load_hf(v._p(), b, len(b)))

    @classmethod
    def from_tiktoken(cls, data, specials=None, **cfg) -> "Vocab":
        """Loads a tiktoken file (lines "base64 rank"). specials: None, the name of an
        encoding with built-in specials ("cl100k_base", "o200k_base"), a {name: id} dict
        or an iterable of (name, id)."""
        b = bytes(data)
        if specials is None:
            items = []
        elif isinstance(specials, str):
            items = list(tiktoken_specials(specials).items())
        elif isinstance(specials, dict):
            items = list(specials.items())
        else:
            items = [(n, i) for n, i in specials]
        arr = (_ffi.tks_special_token * max(len(items), 1))()
        names = []  # keep the encoded names alive during the call
        for k, (name, tid) in enumerate(items):
            nb = name.encode("utf-8") if isinstance(name, str) else bytes(name)
            names.append(nb)
            arr[k].name = nb
            arr[k].id = tid
        v = cls(**cfg)
        return v._load(lib.tks_vocab_load_tiktoken(v._p(), b, len(b), arr, len(items)))

    def add(self, token_id: int, data, special: bool = False) -> None:
        """Sets a token's bytes (bytes or str) and whether it is special."""
        b = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        rc = lib.tks_vocab_add(self._p(), token_id, b, len(b),
                               _ffi.TKS_TOKEN_SPECIAL if special else 0)
        if rc < 0:
            self._raise(rc)

    def token(self, token_id: int):
        """(bytes, special) of a token; None when the vocabulary lacks it."""
        p = ctypes.c_void_p()
        n = ctypes.c_size_t(0)
        flags = ctypes.c_uint32(0)
        rc = lib.tks_vocab_token(self._p(), token_id, ctypes.byref(p), ctypes.byref(n),
                                 ctypes.byref(flags))
        if rc == Status.ENOTFOUND:
            return None
        if rc < 0:
            raise TokstreamError(rc)
        return _ffi.take_bytes(p.value, n.value) or b"", bool(flags.value & _ffi.TKS_TOKEN_SPECIAL)

    def __len__(self) -> int:
        """Largest id + 1."""
        return lib.tks_vocab_size(self._p())

    def __bool__(self) -> bool:  # an empty vocabulary is still an object, not "false"
        return True


class Detok(_Object):
    """A streaming detokenizer (tks_detok) over a Vocab.

    push(ids) returns the text those ids completed (possibly ""), finish() the rest; the
    concatenation equals the decode of the whole sequence. skip_special drops special
    tokens; skip_unknown drops ids the vocabulary lacks (else TokstreamError(ENOTFOUND)
    with .offset the index of the id); grapheme never ends a delta inside a grapheme
    cluster. on_text: optional callable(str) called for each delta inside the push; a
    true return stops the stream; an exception stops it and is re-raised.
    """

    _prefix = "detok"

    def __init__(self, vocab: Vocab, skip_special: bool = True, *, skip_unknown: bool = False,
                 grapheme: bool = False, max_hold: int = 0,
                 on_text: Optional[Callable[[str], object]] = None):
        super().__init__()
        self._vocab = None
        cfg = _ffi.tks_detok_config()
        cfg.flags = ((_ffi.TKS_DETOK_SKIP_SPECIAL if skip_special else 0)
                     | (_ffi.TKS_DETOK_SKIP_UNKNOWN if skip_unknown else 0)
                     | (_ffi.TKS_DETOK_GRAPHEME if grapheme else 0))
        cfg.max_hold = max_hold
        self._cbs.user = on_text
        cbs = self._cbs

        def on_c_text(_user, p, n):
            try:
                t = ctypes.string_at(p, n).decode("utf-8")
                cbs.items.append(t)
                if cbs.user is not None and cbs.user(t):
                    return 1
                return 0
            except BaseException as e:  # noqa: B902 - re-raised after the push
                return cbs.fail(e)

        self._cb = _ffi.TEXT_CB(on_c_text)
        self._create(lib.tks_detok_new, vocab._p(), ctypes.byref(cfg), self._cb, None)
        vocab._retain()  # the C vocabulary must outlive the detok
        self._vocab = vocab
        self._last_status = Status.OK

    @staticmethod
    def _ids(ids: Iterable[int]):
        a = array.array("i", ids) if not isinstance(ids, int) else array.array("i", [ids])
        assert a.itemsize == 4
        n = len(a)
        if n == 0:
            return None, 0, a
        return (ctypes.c_int32 * n).from_buffer(a), n, a

    def push(self, ids) -> str:
        """Decodes ids (an int or an iterable of ints); returns the text they released."""
        buf, n, keep = self._ids(ids)
        _, items = self._call(lib.tks_detok_push, buf, n)
        del keep
        return "".join(items)

    def finish(self) -> str:
        """Ends the sequence: releases what was held (an unfinished character becomes
        U+FFFD)."""
        _, items = self._call(lib.tks_detok_finish)
        return "".join(items)

    def prime(self, ids) -> None:
        """The prompt's trailing ids: set the context, never emitted (before any push)."""
        buf, n, keep = self._ids(ids)
        self._call(lib.tks_detok_prime, buf, n)
        del keep

    def prime_bytes(self, data) -> None:
        b = bytes(data)
        self._call(lib.tks_detok_prime_bytes, b, len(b))

    def decode(self, ids) -> str:
        """push(ids) + finish(): the whole sequence at once."""
        return self.push(ids) + self.finish()

    def reset(self) -> None:
        lib.tks_detok_reset(self._p())
        self._last_status = Status.OK

    @property
    def stopped(self) -> bool:
        return self._last_status == Status.STOPPED

    def close(self) -> None:
        had = bool(getattr(self, "_ptr", None))
        super().close()
        v, self._vocab = getattr(self, "_vocab", None), None
        if had and v is not None:
            v._release()
