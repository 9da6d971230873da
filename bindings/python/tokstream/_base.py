"""What every bound object shares: ownership of the C pointer, close/with/__del__,
errors raised with the object's own detail and offset, and the guard that turns an
exception in a callback into a stop of the push and a re-raise after it."""

from __future__ import annotations

from ctypes import byref, c_void_p

from . import _ffi
from ._ffi import Status, TokstreamError, lib


class _Callbacks:
    """State a C callback touches. Deliberately holds no reference to the bound object,
    so that dropping the object frees the C side at once (no reference cycle)."""

    __slots__ = ("items", "exc", "user")

    def __init__(self, user=None):
        self.items = []
        self.exc = None  # the first exception raised inside a callback during a call
        self.user = user

    def fail(self, exc: BaseException) -> int:
        if self.exc is None:
            self.exc = exc
        return 1  # non-zero: the library stops the push (TKS_STOPPED)


class _Object:
    """Base of the wrappers: subclasses set _prefix ("client", "detok", ...)."""

    _prefix = ""
    _has_offset = True

    def __init__(self):
        self._ptr = None
        self._busy = False
        self._cbs = _Callbacks()

    # ---- life cycle --------------------------------------------------------------------

    def _create(self, new, *args):
        out = c_void_p()
        rc = new(byref(out), *args)
        if rc < 0:
            raise TokstreamError(rc, f"tks_{self._prefix}_new failed")
        self._ptr = out

    def close(self) -> None:
        """Frees the C object; later calls raise TokstreamError(ESTATE). Idempotent.
        An object another one still uses (a Vocab under a Detok, a Timer attached to a
        Client) is closed for you at once but freed when its last user closes."""
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if not ptr:
            return
        if getattr(self, "_users", 0) > 0:
            self._deferred = ptr
            return
        getattr(lib, f"tks_{self._prefix}_free")(ptr)

    def _retain(self):
        """Another object keeps using this one's C pointer: returns it."""
        p = self._p()
        self._users = getattr(self, "_users", 0) + 1
        return p

    def _release(self):
        self._users -= 1
        ptr = getattr(self, "_deferred", None)
        if self._users == 0 and ptr:
            self._deferred = None
            getattr(lib, f"tks_{self._prefix}_free")(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing sensible left to do
            pass

    @property
    def closed(self) -> bool:
        return not self._ptr

    def _p(self):
        if not self._ptr:
            raise TokstreamError(Status.ESTATE, f"the {type(self).__name__} is closed")
        return self._ptr

    # ---- errors --------------------------------------------------------------------------

    @property
    def error(self) -> str:
        """The detail of the last error in words ("" when none)."""
        return _ffi.cstr(getattr(lib, f"tks_{self._prefix}_error")(self._p()))

    @property
    def offset(self) -> int | None:
        """The input position of the last error (see tks_X_offset(3))."""
        if not self._has_offset:
            return None
        return getattr(lib, f"tks_{self._prefix}_offset")(self._p())

    def _raise(self, rc: int):
        detail = None
        offset = None
        if self._ptr:
            detail = self.error or None
            offset = self.offset
        raise TokstreamError(rc, detail, offset)

    def _call(self, fn, *args):
        """Runs one C call whose callbacks append to self._cbs.items; returns (rc, items).
        An exception raised in a callback stopped the call (TKS_STOPPED) and is re-raised
        here; a negative status raises TokstreamError carrying the items in .deltas."""
        ptr = self._p()
        if self._busy:
            raise TokstreamError(Status.ESTATE, "re-entrant call from inside a callback")
        cbs = self._cbs
        cbs.items = []
        cbs.exc = None
        self._busy = True
        try:
            rc = fn(ptr, *args)
        finally:
            self._busy = False
        items, cbs.items = cbs.items, []
        exc, cbs.exc = cbs.exc, None
        self._last_status = rc
        if exc is not None:
            raise exc
        if rc < 0:
            try:
                self._raise(rc)
            except TokstreamError as e:
                e.items = e.deltas = items
                raise
        return rc, items
