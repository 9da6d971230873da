#!/usr/bin/env python3
"""Writes the small AWS eventstream files in this directory (run it here to rebuild them).
CRCs come from Python's zlib.crc32, independently of the library's own CRC code."""
import struct, zlib, uuid

def header(name, t, value=b""):
    n = name.encode()
    return bytes([len(n)]) + n + bytes([t]) + value

def s(name, text):  # type 7: string with a u16 length
    v = text.encode()
    return header(name, 7, struct.pack(">H", len(v)) + v)

def frame(headers, payload, bad_prelude=False, bad_message=False, total=None):
    h = b"".join(headers)
    tl = total if total is not None else 16 + len(h) + len(payload)
    prelude = struct.pack(">II", tl, len(h))
    pcrc = zlib.crc32(prelude) ^ (1 if bad_prelude else 0)
    body = prelude + struct.pack(">I", pcrc) + h + payload
    mcrc = zlib.crc32(body) ^ (0x80000000 if bad_message else 0)
    return body + struct.pack(">I", mcrc)

f1 = frame([s(":event-type", "chunk"), s(":content-type", "application/json"),
            s(":message-type", "event")], b'{"bytes":"eyJ0ZXh0IjoiaGkifQ=="}')
f2 = frame([s(":message-type", "exception"), s(":exception-type", "throttlingException"),
            s(":content-type", "application/json")], b'{"message":"slow down"}')
f3 = frame([s(":message-type", "event"), s(":event-type", "allTypes"),
            header("t", 0), header("f", 1),
            header("b", 2, struct.pack(">b", -5)),
            header("s", 3, struct.pack(">h", -300)),
            header("i", 4, struct.pack(">i", 70000)),
            header("l", 5, struct.pack(">q", -5000000000)),
            header("y", 6, struct.pack(">H", 3) + b"\x00\xff\x10"),
            s("str", "h\u00e9llo"),
            header("ts", 8, struct.pack(">q", 1700000000000)),
            header("u", 9, uuid.UUID("12345678-9abc-def0-1234-56789abcdef0").bytes)], b"{}")
f4 = frame([], b"")
f5 = frame([s(":message-type", "error"), s(":error-code", "InternalFailure"),
            s(":error-message", "it broke")], b"")

files = {
    "small.eventstream": f1 + f2 + f3 + f4 + f5,
    "bad-prelude-crc.eventstream": f1 + frame([s(":event-type", "x")], b"{}", bad_prelude=True),
    "bad-message-crc.eventstream": f1 + frame([s(":event-type", "x")], b"{}", bad_message=True),
    "truncated.eventstream": f1 + f2[: len(f2) // 2],
    "bad-length.eventstream": f1 + frame([], b"", total=10)[:12] + b"\0" * 4,
}
for name, data in files.items():
    with open(name, "wb") as out:
        out.write(data)
    print(name, len(data), "bytes; frame 1 is", len(f1), "bytes")
