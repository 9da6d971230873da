"""tks_timer: one stream's timing from caller-supplied nanoseconds."""

from __future__ import annotations

import ctypes
from typing import Callable, Optional

from . import _ffi
from ._base import _Object
from ._ffi import Status, TokstreamError, lib

# enum tks_metric (per-stream values readable with Timer.get)
METRICS = {
    "ttfc": 0,
    "ttft": 1,
    "ttft_reasoning": 2,
    "tpot": 5,
    "e2el": 6,
    "duration": 7,
    "queue": 8,
    "output_tokens": 9,
    "tokens_per_s_milli": 11,
}

# enum tks_outcome
OUTCOMES = {0: "none", 1: "ok", 2: "empty", 3: "timeout", 4: "error"}

CHUNK_CONTENT = 0x1
CHUNK_REASONING = 0x2
TIMEOUT_FIRST_TOKEN = 0x1
TIMEOUT_IDLE = 0x2
TIMEOUT_TOTAL = 0x4
NO_DEADLINE = 2**63 - 1


def now_ns() -> int:
    """Nanoseconds from the library's monotonic clock (tks_now_ns)."""
    return lib.tks_now_ns()


class Timer(_Object):
    """A tks_timer. Marks take nanoseconds from one monotonic clock (now_ns() or your
    own) in non-decreasing order; results() gives every measure (None when undefined).

    clock: optional callable() -> int ns that Timer.now() and an attached Client read
           (a deterministic clock for tests and trace replays). It must not raise: an
           exception is kept in .clock_error and the reading becomes 0 (which makes the
           next mark fail as time going backwards).
    """

    _prefix = "timer"
    _has_offset = False

    def __init__(self, *, first_token_ns: int = 0, idle_ns: int = 0, total_ns: int = 0,
                 no_histograms: bool = False, clock: Optional[Callable[[], int]] = None):
        super().__init__()
        self.clock_error = None
        cfg = _ffi.tks_timer_config()
        cfg.first_token_ns = first_token_ns
        cfg.idle_ns = idle_ns
        cfg.total_ns = total_ns
        cfg.flags = 0x1 if no_histograms else 0
        if clock is not None:
            errs = []

            def cb(_ctx):
                try:
                    return int(clock())
                except BaseException as e:  # noqa: B902 - reported through clock_error
                    errs.append(e)
                    return 0
            self._clock_errs = errs
            self._clock = _ffi.CLOCK_FN(cb)
        else:
            self._clock_errs = []
            self._clock = _ffi.CLOCK_FN()  # NULL: tks_now_ns
        cfg.clock = self._clock
        self._create(lib.tks_timer_new, ctypes.byref(cfg))

    def _mark(self, fn, *args) -> None:
        rc = fn(self._p(), *args)
        if self._clock_errs:
            self.clock_error = self._clock_errs[-1]
        if rc < 0:
            self._raise(rc)

    def mark_enqueued(self, ns: int) -> None:
        self._mark(lib.tks_timer_mark_enqueued, ns)

    def mark_sent(self, ns: int) -> None:
        self._mark(lib.tks_timer_mark_sent, ns)

    def mark_first_byte(self, ns: int) -> None:
        self._mark(lib.tks_timer_mark_first_byte, ns)

    def mark_chunk(self, ns: int, n_tokens: int = 1, content: bool = True,
                   reasoning: bool = False) -> None:
        flags = (CHUNK_CONTENT if content else 0) | (CHUNK_REASONING if reasoning else 0)
        self._mark(lib.tks_timer_mark_chunk, ns, n_tokens, flags)

    def mark_usage(self, input_tokens: int = 0, output_tokens: int = 0) -> None:
        self._mark(lib.tks_timer_mark_usage, input_tokens, output_tokens)

    def mark_end(self, ns: int, status: int = Status.OK) -> None:
        self._mark(lib.tks_timer_mark_end, ns, int(status))

    def now(self) -> int:
        return lib.tks_timer_now(self._p())

    def expired(self, ns: int) -> int:
        """TIMEOUT_* bits of the time-outs passed at ns."""
        return lib.tks_timer_expired(self._p(), ns)

    def deadline(self) -> Optional[int]:
        """The earliest pending deadline (absolute ns), None when there is none."""
        d = lib.tks_timer_deadline(self._p())
        return None if d == NO_DEADLINE else d

    @property
    def outcome(self) -> str:
        return OUTCOMES.get(lib.tks_timer_outcome(self._p()), "unknown")

    def get(self, metric: str) -> Optional[int]:
        """One per-stream value by name (see METRICS); None when not defined."""
        if metric not in METRICS:
            raise TokstreamError(Status.EINVAL, f"unknown metric {metric!r}")
        v = ctypes.c_int64(0)
        rc = lib.tks_timer_get(self._p(), METRICS[metric], ctypes.byref(v))
        if rc == Status.EEMPTY:
            return None
        if rc < 0:
            self._raise(rc)
        return v.value

    def results(self) -> dict:
        """Everything measured (tks_timer_results) as a dict; -1 values become None,
        outcome is a name ("ok", "empty", ...)."""
        r = _ffi.tks_timer_results()
        rc = lib.tks_timer_results_get(self._p(), ctypes.byref(r))
        if rc < 0:
            self._raise(rc)
        out = {}
        for name, _t in _ffi.tks_timer_results._fields_:
            v = getattr(r, name)
            if name == "outcome":
                v = OUTCOMES.get(v, v)
            elif name not in ("timeouts", "status") and v == -1:
                v = None
            out[name] = v
        return out

    def reset(self) -> None:
        lib.tks_timer_reset(self._p())
