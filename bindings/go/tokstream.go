// Package tokstream binds tokstream, the embeddable C library for LLM token streams,
// through cgo: the client recipe (bytes of a provider's streamed response in, deltas and
// the assembled message out), the framing parsers (SSE, NDJSON, JSON array, AWS
// eventstream), the vocabulary and streaming detokenizer, and the per-stream timer.
//
// The package links the static library of the source tree it lives in
// (../../build/libtokstream.a, built by `make`) and utf8proc through pkg-config, so it
// works without installing tokstream.
//
// Every object is push-based, like its C counterpart: feed it input, get back what that
// input produced (copied into Go memory), then Finish, and Close to release the C
// object. An object must not be used by several goroutines at once; distinct objects may
// be used from distinct goroutines, and one Vocab may be shared by any number of Detoks.
// Errors are *Error values carrying the library's status code, its text and the input
// offset where the error was found; test them with errors.Is against the Err* sentinels.
package tokstream

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: ${SRCDIR}/../../build/libtokstream.a -lm
#cgo pkg-config: libutf8proc
#include <stdlib.h>
#include "tokstream.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Version is the version of the C library actually linked, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.tks_version()) }

// VersionHex is (major << 16) | (minor << 8) | patch of the linked library.
func VersionHex() uint32 { return uint32(C.tks_version_hex()) }

// NowNS is the library's monotonic clock (CLOCK_MONOTONIC) in nanoseconds: the usual
// source of the times given to a Timer. Only differences mean anything.
func NowNS() int64 { return int64(C.tks_now_ns()) }

// Status codes of the C library (enum tks_status); the numbers are stable.
const (
	StatusOK          = 0
	StatusStopped     = 1
	StatusNoMem       = -1
	StatusInvalid     = -2
	StatusLimit       = -3
	StatusProto       = -4
	StatusUTF8        = -5
	StatusState       = -6
	StatusTruncated   = -7
	StatusIO          = -8
	StatusUnsupported = -9
	StatusNotFound    = -10
	StatusEmpty       = -11
	StatusTooOld      = -12
	StatusJSON        = -13
	StatusCRC         = -14
)

// Error is a status the library returned, with the failing object's description of it
// and the input offset where it was found (a byte offset for parsers and clients, the
// index of the id for a Detok; 0 when the object keeps none).
type Error struct {
	Code    int    // a Status* value
	Message string // the object's error text ("" when it gave none)
	Offset  uint64 // where in the input the error was found
}

// Error formats the error as "tokstream: NAME: message".
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = StatusText(e.Code)
	}
	return "tokstream: " + StatusName(e.Code) + ": " + msg
}

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, tokstream.ErrTruncated) holds for every truncation, whatever its
// message and offset.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

// Name is the status code's name without the prefix ("ETRUNC").
func (e *Error) Name() string { return StatusName(e.Code) }

// Sentinels for errors.Is: one per status code.
var (
	ErrStopped     = &Error{Code: StatusStopped}
	ErrNoMem       = &Error{Code: StatusNoMem}
	ErrInvalid     = &Error{Code: StatusInvalid}
	ErrLimit       = &Error{Code: StatusLimit}
	ErrProto       = &Error{Code: StatusProto}
	ErrUTF8        = &Error{Code: StatusUTF8}
	ErrState       = &Error{Code: StatusState}
	ErrTruncated   = &Error{Code: StatusTruncated}
	ErrIO          = &Error{Code: StatusIO}
	ErrUnsupported = &Error{Code: StatusUnsupported}
	ErrNotFound    = &Error{Code: StatusNotFound}
	ErrEmpty       = &Error{Code: StatusEmpty}
	ErrTooOld      = &Error{Code: StatusTooOld}
	ErrJSON        = &Error{Code: StatusJSON}
	ErrCRC         = &Error{Code: StatusCRC}
)

// StatusText is the library's fixed message for a status code (tks_strerror).
func StatusText(code int) string { return C.GoString(C.tks_strerror(C.int(code))) }

// StatusName is the code's name without the prefix ("ENOMEM", "OK"; tks_status_name).
func StatusName(code int) string { return C.GoString(C.tks_status_name(C.int(code))) }

// status turns a return code into an error: nil for TKS_OK, otherwise an *Error with the
// object's text and offset (msg may be NULL).
func status(rc C.int, msg *C.char, off C.uint64_t) error {
	if rc == C.TKS_OK {
		return nil
	}
	e := &Error{Code: int(rc), Offset: uint64(off)}
	if msg != nil {
		e.Message = C.GoString(msg)
	}
	return e
}

// goError is an error found by the binding itself (no C object involved).
func goError(code int, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Dialect is a provider's wire dialect (enum tks_dialect).
type Dialect int

// Dialects.
const (
	DialectAuto            Dialect = 0
	DialectOpenAIChat      Dialect = 1
	DialectOpenAIResponses Dialect = 2
	DialectAnthropic       Dialect = 3
	DialectGemini          Dialect = 4
	DialectOllama          Dialect = 5
	DialectBedrock         Dialect = 6
)

// String is the dialect's name as the CLI spells it ("openai-chat"), or "Dialect(N)".
func (d Dialect) String() string {
	if p := C.tks_dialect_name(C.int(d)); p != nil {
		return C.GoString(p)
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// ParseDialect gives the dialect of a name ("auto", "openai-chat", "openai-responses",
// "anthropic", "gemini", "ollama", "bedrock"); ErrInvalid for another name.
func ParseDialect(name string) (Dialect, error) {
	if name == "" {
		return DialectAuto, nil
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	d := C.tks_dialect_from_name(cs, C.size_t(len(name)))
	if d < 0 {
		return 0, goError(StatusInvalid, "unknown dialect %q", name)
	}
	return Dialect(d), nil
}

// Framing is how a response body frames its events (enum tks_framing).
type Framing int

// Framings.
const (
	FramingAuto        Framing = 0
	FramingSSE         Framing = 1
	FramingNDJSON      Framing = 2
	FramingJSONArray   Framing = 3
	FramingEventStream Framing = 4
)

var framingNames = [...]string{"auto", "sse", "ndjson", "json-array", "eventstream"}

// String is "auto", "sse", "ndjson", "json-array" or "eventstream".
func (f Framing) String() string {
	if f >= 0 && int(f) < len(framingNames) {
		return framingNames[f]
	}
	return fmt.Sprintf("Framing(%d)", int(f))
}

// cbytes points C at a Go byte slice for the duration of a call (NULL when empty).
func cbytes(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// gostr copies a C string of known length (NULL allowed when n is 0).
func gostr(p *C.char, n C.size_t) string {
	if p == nil || n == 0 {
		return ""
	}
	return C.GoStringN(p, C.int(n))
}
