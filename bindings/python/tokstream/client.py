"""tks_client: response bytes in (SSE, NDJSON, JSON array or AWS eventstream, any
provider dialect), normalized deltas out, and the assembled message."""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass
from typing import Callable, Optional

from . import _ffi
from ._base import _Object
from ._ffi import Status, TokstreamError, lib

# enum tks_delta_kind, by number
DELTA_KINDS = {
    1: "start",
    2: "role",
    3: "text",
    4: "reasoning",
    5: "signature",
    6: "refusal",
    7: "tool_call",
    8: "tool_args",
    9: "logprobs",
    10: "finish",
    11: "usage",
    12: "error",
    13: "done",
}

# enum tks_finish (OpenAI's words); TKS_FINISH_NONE is None
FINISH_REASONS = {
    1: "stop",
    2: "length",
    3: "tool_calls",
    4: "content_filter",
    5: "error",
    6: "other",
}

# enum tks_framing
FRAMINGS = {
    "auto": 0,
    "sse": 1,
    "ndjson": 2,
    "json-array": 3,
    "eventstream": 4,
}
_FRAMING_NAMES = {v: k for k, v in FRAMINGS.items()}

_USAGE = ("input_tokens", "output_tokens", "total_tokens", "reasoning_tokens", "cached_tokens")


def dialect_name(number: int) -> Optional[str]:
    """The library's name for a dialect number ("openai-chat"), None when unknown."""
    p = lib.tks_dialect_name(int(number))
    return None if p is None else p.decode()


def dialect_number(name) -> int:
    """The dialect number for a name (or a number, checked); TokstreamError(EINVAL) when
    the library does not know it."""
    if isinstance(name, int):
        if dialect_name(name) is None:
            raise TokstreamError(Status.EINVAL, f"unknown dialect {name}")
        return name
    b = str(name).encode()
    n = lib.tks_dialect_from_name(b, len(b))
    if n < 0:
        raise TokstreamError(Status.EINVAL, f"unknown dialect {name!r}")
    return n


@dataclass
class Delta:
    """One normalized delta (tks_delta). Fields that the kind does not use are None.

    kind:   "start", "role", "text", "reasoning", "signature", "refusal", "tool_call",
            "tool_args", "logprobs", "finish", "usage", "error" or "done"
    choice: the choice index; index: the tool call's index (tool_call, tool_args)
    text:   the text piece / role / raw finish reason / error message
    id, name: message id and model (start), call id and function name (tool_call),
            error code and type (error)
    json:   logprobs or the error value, verbatim JSON text
    finish: normalized finish reason ("stop", "length", ...) for kind "finish"
    whole:  tool_args carrying the complete arguments rather than a fragment
    *_tokens: usage counts (kind "usage"), None when the provider gave none
    offset: input byte offset of the event the delta came from
    """

    kind: str
    choice: int = 0
    index: int = 0
    text: Optional[str] = None
    id: Optional[str] = None
    name: Optional[str] = None
    json: Optional[str] = None
    finish: Optional[str] = None
    whole: bool = False
    input_tokens: Optional[int] = None
    output_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    reasoning_tokens: Optional[int] = None
    cached_tokens: Optional[int] = None
    offset: int = 0
    kind_code: int = 0

    @classmethod
    def _from_c(cls, d: "_ffi.tks_delta") -> "Delta":
        # Every pointer in d is valid only during the callback: copy everything now.
        out = cls(
            kind=DELTA_KINDS.get(d.kind, f"kind{d.kind}"),
            choice=d.choice,
            index=d.index,
            text=_ffi.take(d.text, d.text_len),
            id=_ffi.take(d.id, d.id_len),
            name=_ffi.take(d.name, d.name_len),
            json=_ffi.take(d.json, d.json_len),
            whole=bool(d.flags & _ffi.TKS_DELTA_WHOLE),
            offset=d.offset,
            kind_code=d.kind,
        )
        if out.kind == "finish":
            out.finish = FINISH_REASONS.get(d.finish)
        elif out.kind == "usage":
            for f in _USAGE:
                v = getattr(d, f)
                setattr(out, f, v if v >= 0 else None)
        return out


class Client(_Object):
    """A tks_client: feed the response body with push(), end it with finish(), read the
    message with message().

    dialect: "auto" (decided from the first events), "openai-chat", "openai-responses",
             "anthropic", "gemini", "ollama", "bedrock" (or the enum number)
    framing: "auto" (decided from the first bytes), "sse", "ndjson", "json-array",
             "eventstream"
    on_delta: optional callable(Delta) called for each delta as it arrives (inside the
             push); a true return value stops the stream (TKS_STOPPED); an exception
             stops it too and is re-raised by the push after the library returns.
    timer:   optional Timer the client marks (first byte, chunks, usage, end).

    Not thread-safe: use one Client per thread (distinct objects are independent).
    """

    _prefix = "client"

    def __init__(self, dialect="auto", framing="auto", *, max_event: int = 0,
                 max_message: int = 0, on_delta: Optional[Callable[[Delta], object]] = None,
                 timer=None):
        super().__init__()
        if isinstance(framing, str):
            if framing not in FRAMINGS:
                raise TokstreamError(Status.EINVAL, f"unknown framing {framing!r}")
            framing = FRAMINGS[framing]
        self._timer = None
        cfg = _ffi.tks_client_config()
        cfg.dialect = dialect_number(dialect)
        cfg.framing = int(framing)
        cfg.max_event = max_event
        cfg.max_message = max_message
        cfg.timer = timer._p() if timer is not None else None
        self._cbs.user = on_delta
        cbs = self._cbs

        def on_c_delta(_user, dp):
            try:
                d = Delta._from_c(dp.contents)
                cbs.items.append(d)
                if cbs.user is not None and cbs.user(d):
                    return 1
                return 0
            except BaseException as e:  # noqa: B902 - re-raised after the push
                return cbs.fail(e)

        self._cb = _ffi.DELTA_CB(on_c_delta)  # alive as long as the C object
        self._create(lib.tks_client_new, ctypes.byref(cfg), self._cb, None)
        if timer is not None:
            timer._retain()  # the C client marks it: it must outlive the client
            self._timer = timer
        self._last_status = Status.OK

    def push(self, data) -> list:
        """Feeds bytes (cut anywhere); returns the deltas they completed. Raises
        TokstreamError for a malformed stream (the deltas before the error are in its
        .deltas). After a stop (on_delta returned true) pushes return []."""
        b = bytes(data)
        _, items = self._call(lib.tks_client_push, b, len(b))
        return items

    def finish(self) -> list:
        """Ends the input; returns the last deltas. Raises TokstreamError(ETRUNC) when the
        stream ended before the dialect's terminal marker (message() still holds
        everything received), or the sticky error."""
        _, items = self._call(lib.tks_client_finish)
        return items

    def reset(self) -> None:
        """Prepares the client for a new stream with the same configuration."""
        lib.tks_client_reset(self._p())
        self._last_status = Status.OK

    def close(self) -> None:
        had = bool(getattr(self, "_ptr", None))
        super().close()
        t, self._timer = getattr(self, "_timer", None), None
        if had and t is not None:
            t._release()

    @property
    def timer(self):
        """The attached Timer, or None."""
        return self._timer

    @property
    def stopped(self) -> bool:
        """True when the last push or finish returned TKS_STOPPED."""
        return self._last_status == Status.STOPPED

    @property
    def dialect(self) -> str:
        """The dialect in use ("auto" until decided)."""
        return dialect_name(lib.tks_client_dialect(self._p())) or "auto"

    @property
    def framing(self) -> str:
        """The framing in use ("auto" until decided)."""
        n = lib.tks_client_framing(self._p())
        return _FRAMING_NAMES.get(n, str(n))

    def message_json(self) -> str:
        """The assembled message as the JSON text of `tokstream assemble`."""
        a = lib.tks_client_message(self._p())
        need = ctypes.c_size_t(0)
        rc = lib.tks_assembler_json(a, None, 0, ctypes.byref(need))
        if rc < 0 and rc != Status.ELIMIT:
            raise TokstreamError(rc, "tks_assembler_json size query failed")
        buf = ctypes.create_string_buffer(need.value + 1)
        rc = lib.tks_assembler_json(a, buf, len(buf), ctypes.byref(need))
        if rc < 0:
            raise TokstreamError(rc, "tks_assembler_json failed")
        return buf.raw[: need.value].decode("utf-8")

    def message(self) -> dict:
        """The message assembled so far (complete or not) as a dict: complete, dialect,
        id, model, choices[...], usage, error (see tks_assembler_json(3))."""
        return json.loads(self.message_json())

    @property
    def complete(self) -> bool:
        """True once the dialect's terminal marker was seen."""
        return bool(lib.tks_assembler_complete(lib.tks_client_message(self._p())))
