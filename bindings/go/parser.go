package tokstream

/*
#include <stdint.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// EventKind says what a parser reported.
type EventKind int

// Event kinds. Comments and retries come only from an SSE parser asked for them.
const (
	EventMessage EventKind = 0 // a dispatched event
	EventComment EventKind = 1 // an SSE comment line: Data = the text after ':' as sent
	EventRetry   EventKind = 2 // a valid SSE retry field: RetryMS
)

// HeaderType is the type of an AWS eventstream header (enum tks_header_type).
type HeaderType int

// Header types.
const (
	HeaderTrue      HeaderType = 0
	HeaderFalse     HeaderType = 1
	HeaderByte      HeaderType = 2
	HeaderShort     HeaderType = 3
	HeaderInt       HeaderType = 4
	HeaderLong      HeaderType = 5
	HeaderBytes     HeaderType = 6
	HeaderString    HeaderType = 7
	HeaderTimestamp HeaderType = 8 // milliseconds since the epoch, in Integer
	HeaderUUID      HeaderType = 9 // 16 bytes in Value
)

// Header is one typed header of an AWS eventstream frame.
type Header struct {
	Name    string
	Type    HeaderType
	Value   []byte // Bytes, String, UUID; nil otherwise
	Integer int64  // True/False (1/0), Byte, Short, Int, Long, Timestamp
}

// Event is one framed event (tks_event), copied into Go memory.
//   - SSE: Type is the event type ("message" when none was given), Data the joined
//     data lines, ID the last event ID ("" when none).
//   - NDJSON, JSON array: Data is one JSON text; Type and ID are "".
//   - AWS eventstream: Data is the payload, Type the :event-type header (or
//     :exception-type, :error-code), MessageType the :message-type, Headers all of them.
type Event struct {
	Kind        EventKind
	Type        string
	Data        string
	ID          string
	MessageType string
	Headers     []Header
	Offset      uint64 // input byte offset where the event (line, frame) began
	RetryMS     uint64 // EventRetry only
}

// ParserOptions configures a framing parser; the zero value (or nil) means the defaults.
type ParserOptions struct {
	// MaxLine: SSE and NDJSON, the longest line in bytes (0 = 1 MiB).
	MaxLine int
	// MaxEvent: SSE, the largest event (0 = 1 MiB); JSON array, the largest element
	// (0 = 1 MiB); eventstream, the largest frame (0 = 16 MiB).
	MaxEvent int
	// MaxDepth: JSON array, nesting inside one element (0 = 256).
	MaxDepth int
	// SSE only: RawUTF8 passes bytes through unvalidated instead of replacing invalid
	// UTF-8 with U+FFFD; Comments and Retry report comment lines and retry fields as
	// EventComment and EventRetry events.
	RawUTF8, Comments, Retry bool
}

// Parser is one framing parser: bytes in, events out. Not safe for concurrent use.
type Parser struct {
	p    unsafe.Pointer
	kind C.int
	h    cgo.Handle
	s    *sink
}

// NewSSEParser makes a text/event-stream parser (WHATWG rules; tks_sse_parser_new(3)).
func NewSSEParser(opts *ParserOptions) (*Parser, error) { return newParser(C.TKSGO_SSE, opts) }

// NewNDJSONParser makes a JSON-lines parser (Ollama).
func NewNDJSONParser(opts *ParserOptions) (*Parser, error) {
	return newParser(C.TKSGO_NDJSON, opts)
}

// NewJSONArrayParser makes a parser of the elements of one top-level JSON array (Gemini
// without alt=sse), each dispatched as it completes.
func NewJSONArrayParser(opts *ParserOptions) (*Parser, error) {
	return newParser(C.TKSGO_JSON_ARRAY, opts)
}

// NewEventStreamParser makes an AWS application/vnd.amazon.eventstream parser
// (Bedrock): binary frames, both CRC32s checked.
func NewEventStreamParser(opts *ParserOptions) (*Parser, error) {
	return newParser(C.TKSGO_EVENTSTREAM, opts)
}

func newParser(kind C.int, opts *ParserOptions) (*Parser, error) {
	var o ParserOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxLine < 0 || o.MaxEvent < 0 || o.MaxDepth < 0 || o.MaxDepth > 1<<31 {
		return nil, goError(StatusInvalid, "limit out of range")
	}
	var co C.tksgo_parser_opts
	co.max_line = C.size_t(o.MaxLine)
	co.max_event = C.size_t(o.MaxEvent)
	co.max_depth = C.uint32_t(o.MaxDepth)
	if o.RawUTF8 {
		co.flags |= C.TKS_SSE_RAW_UTF8
	}
	if o.Comments {
		co.comments = 1
	}
	if o.Retry {
		co.retry = 1
	}
	p := &Parser{kind: kind, s: &sink{}}
	p.h = cgo.NewHandle(p.s)
	var pp unsafe.Pointer
	rc := C.tksgo_parser_new(&pp, kind, &co, C.uintptr_t(p.h))
	if rc != C.TKS_OK {
		p.h.Delete()
		return nil, status(rc, nil, 0)
	}
	p.p = pp
	runtime.SetFinalizer(p, (*Parser).Close)
	return p, nil
}

func (p *Parser) check() error {
	if p == nil || p.p == nil {
		return goError(StatusInvalid, "parser is closed")
	}
	return nil
}

func (p *Parser) err(rc C.int) error {
	return status(rc, C.tksgo_parser_error(p.p, p.kind), C.tksgo_parser_offset(p.p, p.kind))
}

// Push feeds bytes, cut anywhere, and returns the events they completed. Errors are
// sticky until Reset; the events found before an error are returned with it.
func (p *Parser) Push(b []byte) ([]Event, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	rc := C.tksgo_parser_push(p.p, p.kind, cbytes(b), C.size_t(len(b)))
	runtime.KeepAlive(b)
	err := p.err(rc)
	runtime.KeepAlive(p)
	return p.s.takeEvents(), err
}

// Finish ends the input and returns what it dispatched (an NDJSON line without its
// newline, for one). ErrTruncated when the input ended inside an event, line, element
// or frame (an unterminated SSE event is not dispatched); Offset says where it began.
func (p *Parser) Finish() ([]Event, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	rc := C.tksgo_parser_finish(p.p, p.kind)
	err := p.err(rc)
	runtime.KeepAlive(p)
	return p.s.takeEvents(), err
}

// LastEventID is the last event ID an SSE parser has seen (to send as Last-Event-ID
// when reconnecting); "" for the other parsers.
func (p *Parser) LastEventID() string {
	if p.check() != nil || p.kind != C.TKSGO_SSE {
		return ""
	}
	defer runtime.KeepAlive(p)
	var n C.size_t
	s := C.tks_sse_parser_last_id((*C.tks_sse_parser)(p.p), &n)
	return gostr(s, n)
}

// Reset forgets the stream (error, partial event, last event ID), keeping the options.
func (p *Parser) Reset() {
	if p.check() != nil {
		return
	}
	C.tksgo_parser_reset(p.p, p.kind)
	p.s.events = nil
	runtime.KeepAlive(p)
}

// Close releases the parser; calling it again does nothing.
func (p *Parser) Close() {
	if p == nil || p.p == nil {
		return
	}
	C.tksgo_parser_free(p.p, p.kind)
	p.p = nil
	p.h.Delete()
	runtime.SetFinalizer(p, nil)
}

// String describes the event in one line, for logs and tests.
func (e Event) String() string {
	switch e.Kind {
	case EventComment:
		return fmt.Sprintf("comment %q @%d", e.Data, e.Offset)
	case EventRetry:
		return fmt.Sprintf("retry %d @%d", e.RetryMS, e.Offset)
	}
	return fmt.Sprintf("event %q id %q data %q @%d", e.Type, e.ID, e.Data, e.Offset)
}
