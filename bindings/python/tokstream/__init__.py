"""tokstream: Python bindings (ctypes, stdlib only) for libtokstream, the C library for
LLM token streams.

The shared library is found through the TOKSTREAM_LIB environment variable (a path to
libtokstream.so), else ctypes.util.find_library("tokstream"), else "libtokstream.so.0",
else a build/ directory of the source checkout this package lives in.

    import tokstream
    with tokstream.Client() as c:                 # dialect and framing: auto
        for chunk in body:                        # response bytes, cut anywhere
            for d in c.push(chunk):
                if d.kind == "text":
                    print(d.text, end="")
        c.finish()                                # TokstreamError(ETRUNC) if cut
        msg = c.message()                         # dict, the `tokstream assemble` shape

    vocab = tokstream.Vocab.from_hf_json(open("tokenizer.json", "rb").read())
    d = tokstream.Detok(vocab, skip_special=True)
    text = d.push([9906, 11]) + d.finish()

Negative library statuses raise TokstreamError(code, message, offset); TKS_STOPPED (a
callback asked to stop) is not an error: see the objects' .stopped. An exception raised
by your callback stops the push and is re-raised when the push returns. Objects are not
thread-safe; distinct objects may be used from distinct threads.
"""

from ._ffi import Status, TokstreamError, library_path, status_name, strerror
from ._ffi import lib as _lib
from .client import Client, Delta, dialect_name, dialect_number
from .detok import Detok, Vocab, tiktoken_specials
from .sse import Event, SSEParser
from .timer import Timer, now_ns


def version() -> str:
    """The version of the library actually loaded ("0.1.0")."""
    return _lib.tks_version().decode()


__version__ = "0.1.0"

__all__ = [
    "Client",
    "Delta",
    "Detok",
    "Event",
    "SSEParser",
    "Status",
    "Timer",
    "TokstreamError",
    "Vocab",
    "dialect_name",
    "dialect_number",
    "library_path",
    "now_ns",
    "status_name",
    "strerror",
    "tiktoken_specials",
    "version",
]
