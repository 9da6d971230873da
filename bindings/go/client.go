package tokstream

/*
#include <stdint.h>
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// DeltaKind is what one normalized delta carries (enum tks_delta_kind).
type DeltaKind int

// Delta kinds.
const (
	DeltaStart     DeltaKind = 1  // a message begins: ID = message id, Name = model
	DeltaRole      DeltaKind = 2  // Text = role ("assistant")
	DeltaText      DeltaKind = 3  // Text = a piece of the content
	DeltaReasoning DeltaKind = 4  // Text = a piece of the reasoning
	DeltaSignature DeltaKind = 5  // Text = a reasoning signature, verbatim
	DeltaRefusal   DeltaKind = 6  // Text = a piece of a refusal
	DeltaToolCall  DeltaKind = 7  // a tool call begins: Index, ID, Name
	DeltaToolArgs  DeltaKind = 8  // Text = a fragment of tool call Index's arguments
	DeltaLogprobs  DeltaKind = 9  // JSON = the provider's logprobs value
	DeltaFinish    DeltaKind = 10 // Finish, Text = the provider's own reason
	DeltaUsage     DeltaKind = 11 // the token counts
	DeltaError     DeltaKind = 12 // in-band error: Text = message, ID = code, Name = type, JSON
	DeltaDone      DeltaKind = 13 // the dialect's terminal marker
)

var deltaKindNames = [...]string{"", "start", "role", "text", "reasoning", "signature",
	"refusal", "tool_call", "tool_args", "logprobs", "finish", "usage", "error", "done"}

func (k DeltaKind) String() string {
	if k > 0 && int(k) < len(deltaKindNames) {
		return deltaKindNames[k]
	}
	return fmt.Sprintf("DeltaKind(%d)", int(k))
}

// FinishReason is a normalized finish reason (enum tks_finish).
type FinishReason int

// Finish reasons (OpenAI's words).
const (
	FinishNone          FinishReason = 0
	FinishStop          FinishReason = 1
	FinishLength        FinishReason = 2
	FinishToolCalls     FinishReason = 3
	FinishContentFilter FinishReason = 4
	FinishError         FinishReason = 5
	FinishOther         FinishReason = 6
)

var finishNames = [...]string{"", "stop", "length", "tool_calls", "content_filter", "error", "other"}

func (f FinishReason) String() string {
	if f >= 0 && int(f) < len(finishNames) {
		return finishNames[f]
	}
	return fmt.Sprintf("FinishReason(%d)", int(f))
}

// Delta is one normalized delta (tks_delta), copied into Go memory. Which fields mean
// something depends on Kind; the others are zero. The usage counts are -1 when the
// provider gave none.
type Delta struct {
	Kind   DeltaKind
	Choice int32        // choice index (OpenAI n > 1); 0 otherwise
	Index  int32        // ToolCall, ToolArgs: the tool call's index in its choice
	Finish FinishReason // Finish
	Whole  bool         // ToolArgs: the complete arguments, not a fragment
	Text   string
	ID     string
	Name   string
	JSON   string // Logprobs, Error: the provider's value, verbatim JSON

	InputTokens, OutputTokens, TotalTokens, ReasoningTokens, CachedTokens int64

	Offset uint64 // input byte offset of the event the delta came from
}

// Message is the assembled message, as tks_assembler_json(3) (and `tokstream
// assemble`) writes it. Pointers are nil where the JSON has null.
type Message struct {
	Complete bool          `json:"complete"` // the dialect's terminal marker was seen
	Dialect  string        `json:"dialect"`
	ID       *string       `json:"id"`
	Model    *string       `json:"model"`
	Choices  []Choice      `json:"choices"`
	Usage    *Usage        `json:"usage"`
	Error    *MessageError `json:"error"` // the provider's in-band error
}

// Choice is one choice of a Message.
type Choice struct {
	Index           int        `json:"index"`
	Role            *string    `json:"role"`
	Content         *string    `json:"content"`
	Reasoning       *string    `json:"reasoning"`
	Refusal         *string    `json:"refusal"`
	ToolCalls       []ToolCall `json:"tool_calls"`
	FinishReason    *string    `json:"finish_reason"`
	RawFinishReason *string    `json:"raw_finish_reason"`
}

// ToolCall is one tool call of a Choice; Arguments is the JSON text as received.
type ToolCall struct {
	Index     int     `json:"index"`
	ID        *string `json:"id"`
	Name      *string `json:"name"`
	Arguments string  `json:"arguments"`
}

// Usage holds the latest token counts reported (nil where none was).
type Usage struct {
	InputTokens  *int64 `json:"input_tokens"`
	OutputTokens *int64 `json:"output_tokens"`
	TotalTokens  *int64 `json:"total_tokens"`
}

// MessageError is a provider's in-band error.
type MessageError struct {
	Message string  `json:"message"`
	Type    *string `json:"type"`
	Code    *string `json:"code"`
}

// ClientOptions configures a Client; the zero value (or nil) means the defaults.
type ClientOptions struct {
	Dialect    Dialect // DialectAuto: decided from the first events
	Framing    Framing // FramingAuto: decided from the first bytes
	MaxEvent   int     // one framed event in bytes; 0 = 1 MiB
	MaxMessage int     // the assembled message in bytes; 0 = 16 MiB
	Timer      *Timer  // optional: marked at the first byte, each token-bearing chunk, the end
}

// Client reads one provider's streamed response: framing, chunk decoding and assembly
// (tks_client). Not safe for concurrent use; distinct clients are independent.
type Client struct {
	c     *C.tks_client
	h     cgo.Handle
	s     *sink
	timer *Timer
}

// NewClient makes a client; opts may be nil.
func NewClient(opts *ClientOptions) (*Client, error) {
	var cfg C.tks_client_config
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxEvent < 0 || o.MaxMessage < 0 {
		return nil, goError(StatusInvalid, "negative limit")
	}
	cfg.dialect = C.int(o.Dialect)
	cfg.framing = C.int(o.Framing)
	cfg.max_event = C.size_t(o.MaxEvent)
	cfg.max_message = C.size_t(o.MaxMessage)
	if o.Timer != nil {
		if o.Timer.t == nil {
			return nil, goError(StatusInvalid, "timer is closed")
		}
		cfg.timer = o.Timer.t
	}
	cl := &Client{s: &sink{}, timer: o.Timer}
	cl.h = cgo.NewHandle(cl.s)
	var c *C.tks_client
	rc := C.tksgo_client_new(&c, &cfg, C.uintptr_t(cl.h))
	if rc != C.TKS_OK {
		cl.h.Delete()
		return nil, status(rc, nil, 0)
	}
	cl.c = c
	runtime.SetFinalizer(cl, (*Client).Close)
	return cl, nil
}

func (cl *Client) err(rc C.int) error {
	return status(rc, C.tks_client_error(cl.c), C.tks_client_offset(cl.c))
}

func (cl *Client) check() error {
	if cl == nil || cl.c == nil {
		return goError(StatusInvalid, "client is closed")
	}
	return nil
}

// Push feeds bytes of the response body, cut anywhere, and returns the deltas they
// completed. Errors are sticky until Reset; the deltas found before an error are
// returned with it.
func (cl *Client) Push(b []byte) ([]Delta, error) {
	if err := cl.check(); err != nil {
		return nil, err
	}
	rc := C.tks_client_push(cl.c, cbytes(b), C.size_t(len(b)))
	runtime.KeepAlive(b)
	err := cl.err(rc)
	runtime.KeepAlive(cl)
	return cl.s.takeDeltas(), err
}

// Finish ends the input. The framing dispatches what it still held, so Finish may
// return deltas too. The error is nil when the message is complete (the dialect's
// terminal marker came), ErrTruncated when the stream ended early (Message still holds
// everything received; the Offset says where), or the sticky error of an earlier push.
func (cl *Client) Finish() ([]Delta, error) {
	if err := cl.check(); err != nil {
		return nil, err
	}
	rc := C.tks_client_finish(cl.c)
	err := cl.err(rc)
	runtime.KeepAlive(cl)
	return cl.s.takeDeltas(), err
}

// MessageJSON is the assembled message so far (complete or not) as the JSON object of
// tks_assembler_json(3).
func (cl *Client) MessageJSON() ([]byte, error) {
	if err := cl.check(); err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(cl)
	a := C.tks_client_message(cl.c)
	var need C.size_t
	rc := C.tks_assembler_json(a, nil, 0, &need)
	if rc != C.TKS_OK {
		return nil, status(rc, nil, 0)
	}
	buf := make([]byte, int(need)+1)
	rc = C.tks_assembler_json(a, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &need)
	if rc != C.TKS_OK {
		return nil, status(rc, nil, 0)
	}
	return buf[:need], nil
}

// Message is the assembled message so far, parsed from MessageJSON.
func (cl *Client) Message() (*Message, error) {
	js, err := cl.MessageJSON()
	if err != nil {
		return nil, err
	}
	m := &Message{}
	if err := json.Unmarshal(js, m); err != nil {
		return nil, goError(StatusJSON, "message JSON: %v", err)
	}
	return m, nil
}

// Framing is the framing in use (FramingAuto until the first bytes decided it).
func (cl *Client) Framing() Framing {
	if cl.check() != nil {
		return FramingAuto
	}
	defer runtime.KeepAlive(cl)
	return Framing(C.tks_client_framing(cl.c))
}

// Dialect is the dialect in use (DialectAuto until the first events decided it).
func (cl *Client) Dialect() Dialect {
	if cl.check() != nil {
		return DialectAuto
	}
	defer runtime.KeepAlive(cl)
	return Dialect(C.tks_client_dialect(cl.c))
}

// Reset prepares the client for a new stream with the same options (errors cleared).
// An attached Timer is not reset.
func (cl *Client) Reset() {
	if cl.check() != nil {
		return
	}
	C.tks_client_reset(cl.c)
	cl.s.deltas = nil
	runtime.KeepAlive(cl)
}

// Close releases the client; calling it again does nothing.
func (cl *Client) Close() {
	if cl == nil || cl.c == nil {
		return
	}
	C.tks_client_free(cl.c)
	cl.c = nil
	cl.h.Delete()
	cl.timer = nil
	runtime.SetFinalizer(cl, nil)
}
