"""tks_sse_parser: text/event-stream bytes in, events out (WHATWG rules)."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Callable, Optional

from . import _ffi
from ._base import _Object
from ._ffi import Status, lib


@dataclass
class Event:
    """One item from the SSE parser.

    kind "event": a dispatched event; type is "message" when none was given, id the last
        event ID ("" when none), data the data lines joined with LF, offset the input
        offset of its first field line.
    kind "comment" (SSEParser(comments=True)): data is the text after ':' exactly as sent.
    kind "retry" (SSEParser(retries=True)): a valid retry field, in retry_ms.
    """

    type: str
    data: str
    id: str = ""
    offset: int = 0
    kind: str = "event"
    retry_ms: Optional[int] = None


class SSEParser(_Object):
    """A tks_sse_parser. push(bytes) returns the events those bytes completed; finish()
    ends the input and raises TokstreamError(ETRUNC) (with .offset) when the last event
    was never terminated by a blank line (that event is not dispatched).

    raw_utf8: pass invalid UTF-8 through instead of replacing it with U+FFFD (the str
             fields then carry the bad bytes as surrogate escapes).
    comments: also return comment lines (keep-alives) as Event(kind="comment").
    retries:  also return valid retry fields as Event(kind="retry").
    on_event: optional callable(Event) called inside the push for every item returned;
             a true return stops the parser (TKS_STOPPED); an exception stops it and is
             re-raised when the push returns.
    """

    _prefix = "sse_parser"

    def __init__(self, *, raw_utf8: bool = False, comments: bool = False, retries: bool = False,
                 max_line: int = 0, max_event: int = 0,
                 on_event: Optional[Callable[[Event], object]] = None):
        super().__init__()
        errors = "surrogateescape" if raw_utf8 else "replace"
        self._cbs.user = on_event
        cbs = self._cbs

        def make(kind):
            def cb(_user, ep):
                try:
                    e = ep.contents
                    if kind == "retry":
                        ev = Event("", "", "", e.offset, kind, e.retry_ms)
                    elif kind == "comment":
                        ev = Event("", _ffi.take(e.data, e.data_len, errors) or "", "",
                                   e.offset, kind)
                    else:
                        ev = Event(_ffi.take(e.type, e.type_len, errors) or "",
                                   _ffi.take(e.data, e.data_len, errors) or "",
                                   _ffi.take(e.id, e.id_len, errors) or "", e.offset)
                    cbs.items.append(ev)
                    if cbs.user is not None and cbs.user(ev):
                        return 1
                    return 0
                except BaseException as exc:  # noqa: B902 - re-raised after the push
                    return cbs.fail(exc)
            return _ffi.EVENT_CB(cb)

        # Every callback object lives as long as the parser. EVENT_CB() is NULL.
        self._cb = make("event")
        self._ccb = make("comment") if comments else _ffi.EVENT_CB()
        self._rcb = make("retry") if retries else _ffi.EVENT_CB()
        cfg = _ffi.tks_sse_config()
        cfg.max_line = max_line
        cfg.max_event = max_event
        cfg.flags = _ffi.TKS_SSE_RAW_UTF8 if raw_utf8 else 0
        cfg.on_comment = self._ccb
        cfg.on_retry = self._rcb
        self._create(lib.tks_sse_parser_new, ctypes.byref(cfg), self._cb, None)
        self._last_status = Status.OK

    def push(self, data) -> list:
        """Feeds bytes (cut anywhere); returns the events they completed."""
        b = bytes(data)
        _, items = self._call(lib.tks_sse_parser_push, b, len(b))
        return items

    def finish(self) -> list:
        """Ends the input. TokstreamError(ETRUNC) for an unterminated last event."""
        _, items = self._call(lib.tks_sse_parser_finish)
        return items

    def reset(self) -> None:
        """Forgets the stream (error, stop, partial event, last event ID)."""
        lib.tks_sse_parser_reset(self._p())
        self._last_status = Status.OK

    @property
    def stopped(self) -> bool:
        return self._last_status == Status.STOPPED

    @property
    def last_id(self) -> str:
        """The last event ID (to send as Last-Event-ID when reconnecting)."""
        n = ctypes.c_size_t(0)
        p = lib.tks_sse_parser_last_id(self._p(), ctypes.byref(n))
        return _ffi.take(p, n.value, "surrogateescape") or ""
