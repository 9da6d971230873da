"""Low-level ctypes layer: loading libtokstream, the mirrored C structs, the function
prototypes and the status codes.

Every struct here mirrors include/tokstream.h field by field, in order; the binding's
tests compile a C program that prints the C sizes and offsets and compare them with
these, so a header change that breaks a mirror fails the tests.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)

__all__ = ["lib", "Status", "TokstreamError", "check", "library_path"]

# ---- loading ----------------------------------------------------------------------------


def _candidates():
    env = os.environ.get("TOKSTREAM_LIB")
    if env:
        # An explicit choice: use it or fail, never fall back to another copy.
        yield env
        return
    found = ctypes.util.find_library("tokstream")
    if found:
        yield found
    yield "libtokstream.so.0"
    # Running from a source checkout: <top>/bindings/python/tokstream/_ffi.py
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    yield os.path.join(top, "build", "libtokstream.so.0")


def _load():
    errors = []
    for name in _candidates():
        try:
            return ctypes.CDLL(name), name
        except OSError as e:
            errors.append(f"{name}: {e}")
    raise ImportError(
        "tokstream: cannot load libtokstream (set TOKSTREAM_LIB to the path of "
        "libtokstream.so): " + "; ".join(errors)
    )


lib, library_path = _load()

# ---- status codes -------------------------------------------------------------------------


class Status(enum.IntEnum):
    """The library's status codes (TKS_STATUS_MAP in tokstream.h; numbers are stable)."""

    OK = 0
    STOPPED = 1
    ENOMEM = -1
    EINVAL = -2
    ELIMIT = -3
    EPROTO = -4
    EUTF8 = -5
    ESTATE = -6
    ETRUNC = -7
    EIO = -8
    EUNSUPPORTED = -9
    ENOTFOUND = -10
    EEMPTY = -11
    ETOOOLD = -12
    EJSON = -13
    ECRC = -14


lib.tks_status_name.argtypes = [c_int]
lib.tks_status_name.restype = c_char_p
lib.tks_strerror.argtypes = [c_int]
lib.tks_strerror.restype = c_char_p
lib.tks_version.argtypes = []
lib.tks_version.restype = c_char_p
lib.tks_version_hex.argtypes = []
lib.tks_version_hex.restype = c_uint32

for _s in Status:
    _n = lib.tks_status_name(_s.value).decode()
    if _n != _s.name:
        raise ImportError(
            f"tokstream: status {_s.value} is {_n} in {library_path}, {_s.name} in the binding"
        )
del _s, _n


def status_name(code: int) -> str:
    """The library's name for a status ("ETRUNC"), "UNKNOWN" for other numbers."""
    return lib.tks_status_name(int(code)).decode()


def strerror(code: int) -> str:
    """The library's fixed message for a status."""
    return lib.tks_strerror(int(code)).decode()


class TokstreamError(Exception):
    """A negative status from the library.

    code:    the status (a Status member when the binding knows the number, else an int)
    message: the object's detail in words (tks_X_error), or tks_strerror(code)
    offset:  the input position of the error (tks_X_offset), or None
    """

    def __init__(self, code: int, message: str | None = None, offset: int | None = None):
        try:
            code = Status(code)
        except ValueError:
            pass
        self.code = code
        self.name = status_name(code)
        self.message = message or strerror(code)
        self.offset = offset
        # What the failing call produced before the error (deltas, events, text pieces);
        # `deltas` is the same list, named for Client.push.
        self.items: list = []
        self.deltas = self.items
        super().__init__(code, self.message, offset)

    def __str__(self) -> str:
        where = f" (offset {self.offset})" if self.offset is not None else ""
        return f"{self.name}: {self.message}{where}"


def check(rc: int, message=None, offset=None) -> int:
    """Returns rc when it is not negative, else raises TokstreamError."""
    if rc < 0:
        raise TokstreamError(rc, message() if callable(message) else message,
                             offset() if callable(offset) else offset)
    return rc


# ---- structs (mirrors of tokstream.h) -----------------------------------------------------

class tks_alloc(Structure):
    _fields_ = [
        ("malloc", c_void_p),
        ("realloc", c_void_p),
        ("free", c_void_p),
        ("ctx", c_void_p),
    ]


class tks_header(Structure):
    _fields_ = [
        ("name", c_void_p),
        ("name_len", c_size_t),
        ("type", c_int),
        ("value", c_void_p),
        ("value_len", c_size_t),
        ("integer", c_int64),
    ]


class tks_event(Structure):
    _fields_ = [
        ("type", c_void_p),
        ("type_len", c_size_t),
        ("data", c_void_p),
        ("data_len", c_size_t),
        ("id", c_void_p),
        ("id_len", c_size_t),
        ("message_type", c_void_p),
        ("message_type_len", c_size_t),
        ("headers", POINTER(tks_header)),
        ("n_headers", c_size_t),
        ("offset", c_uint64),
        ("retry_ms", c_uint64),
    ]


EVENT_CB = CFUNCTYPE(c_int, c_void_p, POINTER(tks_event))
TEXT_CB = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
BYTES_CB = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)


class tks_sse_config(Structure):
    _fields_ = [
        ("alloc", POINTER(tks_alloc)),
        ("max_line", c_size_t),
        ("max_event", c_size_t),
        ("flags", c_uint32),
        ("on_comment", EVENT_CB),
        ("on_retry", EVENT_CB),
    ]


TKS_SSE_RAW_UTF8 = 0x1


class tks_delta(Structure):
    _fields_ = [
        ("kind", c_int),
        ("choice", c_int32),
        ("index", c_int32),
        ("finish", c_int),
        ("flags", c_uint32),
        ("text", c_void_p),
        ("text_len", c_size_t),
        ("id", c_void_p),
        ("id_len", c_size_t),
        ("name", c_void_p),
        ("name_len", c_size_t),
        ("json", c_void_p),
        ("json_len", c_size_t),
        ("input_tokens", c_int64),
        ("output_tokens", c_int64),
        ("total_tokens", c_int64),
        ("reasoning_tokens", c_int64),
        ("cached_tokens", c_int64),
        ("offset", c_uint64),
    ]


DELTA_CB = CFUNCTYPE(c_int, c_void_p, POINTER(tks_delta))
TKS_DELTA_WHOLE = 0x1


class tks_client_config(Structure):
    _fields_ = [
        ("alloc", POINTER(tks_alloc)),
        ("dialect", c_int),
        ("framing", c_int),
        ("max_event", c_size_t),
        ("max_message", c_size_t),
        ("timer", c_void_p),
    ]


class tks_vocab_config(Structure):
    _fields_ = [
        ("alloc", POINTER(tks_alloc)),
        ("max_tokens", c_size_t),
        ("max_bytes", c_size_t),
        ("strip_start", c_uint32),
    ]


class tks_special_token(Structure):
    _fields_ = [
        ("name", c_char_p),
        ("id", c_int32),
    ]


TKS_TOKEN_SPECIAL = 0x1


class tks_detok_config(Structure):
    _fields_ = [
        ("alloc", POINTER(tks_alloc)),
        ("flags", c_uint32),
        ("max_hold", c_size_t),
    ]


TKS_DETOK_SKIP_SPECIAL = 0x1
TKS_DETOK_SKIP_UNKNOWN = 0x2
TKS_DETOK_GRAPHEME = 0x4

SAMPLE_CB = CFUNCTYPE(c_int, c_void_p, c_int, c_int64, c_uint64)
CLOCK_FN = CFUNCTYPE(c_int64, c_void_p)


class tks_timer_config(Structure):
    _fields_ = [
        ("alloc", POINTER(tks_alloc)),
        ("first_token_ns", c_int64),
        ("idle_ns", c_int64),
        ("total_ns", c_int64),
        ("flags", c_uint32),
        ("clock", CLOCK_FN),
        ("clock_ctx", c_void_p),
        ("on_sample", SAMPLE_CB),
        ("sample_user", c_void_p),
    ]


class tks_timer_results(Structure):
    _fields_ = [
        ("outcome", c_int),
        ("timeouts", c_uint32),
        ("status", c_int),
        ("ttfc", c_int64),
        ("ttft", c_int64),
        ("ttft_reasoning", c_int64),
        ("tpot", c_int64),
        ("e2el", c_int64),
        ("duration", c_int64),
        ("queue", c_int64),
        ("output_tokens", c_int64),
        ("chunk_tokens", c_int64),
        ("input_tokens", c_int64),
        ("chunks", c_int64),
        ("tokens_per_s_milli", c_int64),
        ("enqueued_ns", c_int64),
        ("sent_ns", c_int64),
        ("first_byte_ns", c_int64),
        ("first_token_ns", c_int64),
        ("first_content_ns", c_int64),
        ("last_token_ns", c_int64),
        ("end_ns", c_int64),
    ]


# The structs the tests check against the C compiler's layout.
MIRRORED = [
    tks_alloc,
    tks_header,
    tks_event,
    tks_sse_config,
    tks_delta,
    tks_client_config,
    tks_vocab_config,
    tks_special_token,
    tks_detok_config,
    tks_timer_config,
    tks_timer_results,
]

# ---- prototypes -----------------------------------------------------------------------------

P = c_void_p  # opaque object pointers
PP = POINTER(c_void_p)
SIZE_P = POINTER(c_size_t)


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


def _std(prefix, input_types, finish=True, offset=True):
    """The common life cycle of an object: push, finish, reset, free, error, offset."""
    _proto(f"tks_{prefix}_push", c_int, P, *input_types)
    if finish:
        _proto(f"tks_{prefix}_finish", c_int, P)
    _proto(f"tks_{prefix}_reset", None, P)
    _proto(f"tks_{prefix}_free", None, P)
    _proto(f"tks_{prefix}_error", c_char_p, P)
    if offset:
        _proto(f"tks_{prefix}_offset", c_uint64, P)


# dialect names
_proto("tks_dialect_name", c_char_p, c_int)
_proto("tks_dialect_from_name", c_int, c_char_p, c_size_t)

# SSE parser
_proto("tks_sse_parser_new", c_int, PP, POINTER(tks_sse_config), EVENT_CB, c_void_p)
_std("sse_parser", [c_char_p, c_size_t])
_proto("tks_sse_parser_last_id", c_void_p, P, SIZE_P)

# client
_proto("tks_client_new", c_int, PP, POINTER(tks_client_config), DELTA_CB, c_void_p)
_std("client", [c_char_p, c_size_t])
_proto("tks_client_message", c_void_p, P)
_proto("tks_client_framing", c_int, P)
_proto("tks_client_dialect", c_int, P)

# assembler (read-only use through the client)
_proto("tks_assembler_json", c_int, P, c_char_p, c_size_t, SIZE_P)
_proto("tks_assembler_complete", c_int, P)
_proto("tks_assembler_has_error", c_int, P)

# vocabulary
_proto("tks_vocab_new", c_int, PP, POINTER(tks_vocab_config))
_proto("tks_vocab_load_hf", c_int, P, c_char_p, c_size_t)
_proto("tks_vocab_load_tiktoken", c_int, P, c_char_p, c_size_t, POINTER(tks_special_token), c_size_t)
_proto("tks_vocab_tiktoken_specials", c_int, c_char_p, POINTER(POINTER(tks_special_token)), SIZE_P)
_proto("tks_vocab_add", c_int, P, c_int32, c_char_p, c_size_t, c_uint32)
_proto("tks_vocab_token", c_int, P, c_int32, POINTER(c_void_p), SIZE_P, POINTER(c_uint32))
_proto("tks_vocab_size", c_size_t, P)
_proto("tks_vocab_free", None, P)
_proto("tks_vocab_error", c_char_p, P)
_proto("tks_vocab_offset", c_uint64, P)

# detokenizer
_proto("tks_detok_new", c_int, PP, P, POINTER(tks_detok_config), TEXT_CB, c_void_p)
_std("detok", [POINTER(c_int32), c_size_t])
_proto("tks_detok_prime", c_int, P, POINTER(c_int32), c_size_t)
_proto("tks_detok_prime_bytes", c_int, P, c_char_p, c_size_t)

# timer
_proto("tks_now_ns", c_int64)
_proto("tks_timer_new", c_int, PP, POINTER(tks_timer_config))
for _m in ("enqueued", "sent", "first_byte"):
    _proto(f"tks_timer_mark_{_m}", c_int, P, c_int64)
_proto("tks_timer_mark_chunk", c_int, P, c_int64, c_uint32, c_uint32)
_proto("tks_timer_mark_usage", c_int, P, c_int64, c_int64)
_proto("tks_timer_mark_end", c_int, P, c_int64, c_int)
_proto("tks_timer_now", c_int64, P)
_proto("tks_timer_expired", c_uint32, P, c_int64)
_proto("tks_timer_deadline", c_int64, P)
_proto("tks_timer_outcome", c_int, P)
_proto("tks_timer_get", c_int, P, c_int, POINTER(c_int64))
_proto("tks_timer_results_get", c_int, P, POINTER(tks_timer_results))
_proto("tks_timer_reset", None, P)
_proto("tks_timer_free", None, P)
_proto("tks_timer_error", c_char_p, P)

del _m


def cstr(p) -> str:
    """A NUL-terminated string returned by the library (c_char_p result) as str."""
    return "" if p is None else p.decode("utf-8", "replace")


def take(ptr, n, errors="replace") -> str | None:
    """Copies n bytes at ptr (a pointer valid only now) into a str; None for NULL."""
    if not ptr:
        return None
    return ctypes.string_at(ptr, n).decode("utf-8", errors) if n else ""


def take_bytes(ptr, n) -> bytes | None:
    if not ptr:
        return None
    return ctypes.string_at(ptr, n) if n else b""
