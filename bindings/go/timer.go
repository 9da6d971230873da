package tokstream

/*
#include <stdint.h>
#include "tokstream.h"
*/
import "C"

import (
	"runtime"
	"time"
)

// Metric names one per-stream value of a Timer (enum tks_metric).
type Metric int

// Metrics; times are nanoseconds. See tks_timer_get(3) for the definitions.
const (
	MetricTTFC           Metric = 0  // first token-bearing chunk - sent
	MetricTTFT           Metric = 1  // first chunk with visible content - sent
	MetricTTFTReasoning  Metric = 2  // first chunk with content or reasoning - sent
	MetricITLChunk       Metric = 3  // (a distribution, not a Get value)
	MetricITLToken       Metric = 4  // (a distribution, not a Get value)
	MetricTPOT           Metric = 5  // (last token - first token) / (N - 1), N > 1
	MetricE2EL           Metric = 6  // last token-bearing chunk - sent
	MetricDuration       Metric = 7  // end - sent
	MetricQueue          Metric = 8  // sent - enqueued
	MetricOutputTokens   Metric = 9  // N
	MetricChunkTokens    Metric = 10 // (a distribution, not a Get value)
	MetricTokensPerSecMs Metric = 11 // N / e2el, in thousandths of a token per second
)

// Outcome is how a finished stream ended (enum tks_outcome).
type Outcome int

// Outcomes.
const (
	OutcomeNone    Outcome = 0 // not ended yet
	OutcomeOK      Outcome = 1 // ended cleanly with at least one token
	OutcomeEmpty   Outcome = 2 // ended cleanly with zero tokens
	OutcomeTimeout Outcome = 3 // a configured time-out passed before the end
	OutcomeError   Outcome = 4 // ended with an error status
)

// Chunk flags for MarkChunk.
const (
	ChunkContent   uint32 = C.TKS_CHUNK_CONTENT   // carries visible content
	ChunkReasoning uint32 = C.TKS_CHUNK_REASONING // carries reasoning
)

// Time-out bits of Expired and TimerResults.Timeouts.
const (
	TimeoutFirstToken uint32 = C.TKS_TIMEOUT_FIRST_TOKEN
	TimeoutIdle       uint32 = C.TKS_TIMEOUT_IDLE
	TimeoutTotal      uint32 = C.TKS_TIMEOUT_TOTAL
)

// NoDeadline is what Deadline gives when no time-out is pending.
const NoDeadline int64 = C.TKS_NO_DEADLINE

// TimerOptions configures a Timer; the zero value (or nil) means no time-outs.
type TimerOptions struct {
	FirstToken, Idle, Total time.Duration // time-outs; 0 = none
	NoHistograms            bool          // keep no per-stream ITL histograms
}

// TimerResults is everything a Timer measured; times in ns, -1 when not defined.
type TimerResults struct {
	Outcome         Outcome
	Timeouts        uint32
	Status          int
	TTFC            int64
	TTFT            int64
	TTFTReasoning   int64
	TPOT            int64
	E2EL            int64
	Duration        int64
	Queue           int64
	OutputTokens    int64
	ChunkTokens     int64
	InputTokens     int64
	Chunks          int64
	TokensPerSMilli int64
	EnqueuedNS      int64
	SentNS          int64
	FirstByteNS     int64
	FirstTokenNS    int64
	FirstContentNS  int64
	LastTokenNS     int64
	EndNS           int64
}

// Timer times one stream from marks carrying nanoseconds of one monotonic clock
// (NowNS). It can be marked by hand, or attached to a Client (ClientOptions.Timer),
// which marks it at NowNS. Not safe for concurrent use.
type Timer struct {
	t *C.tks_timer
}

// NewTimer makes a timer; opts may be nil.
func NewTimer(opts *TimerOptions) (*Timer, error) {
	var cfg C.tks_timer_config
	if opts != nil {
		cfg.first_token_ns = C.int64_t(opts.FirstToken.Nanoseconds())
		cfg.idle_ns = C.int64_t(opts.Idle.Nanoseconds())
		cfg.total_ns = C.int64_t(opts.Total.Nanoseconds())
		if opts.NoHistograms {
			cfg.flags |= C.TKS_TIMER_NO_HISTOGRAMS
		}
	}
	var t *C.tks_timer
	if rc := C.tks_timer_new(&t, &cfg); rc != C.TKS_OK {
		return nil, status(rc, nil, 0)
	}
	tm := &Timer{t: t}
	runtime.SetFinalizer(tm, (*Timer).Close)
	return tm, nil
}

func (t *Timer) check() error {
	if t == nil || t.t == nil {
		return goError(StatusInvalid, "timer is closed")
	}
	return nil
}

func (t *Timer) res(rc C.int) error {
	err := status(rc, C.tks_timer_error(t.t), 0)
	runtime.KeepAlive(t)
	return err
}

// MarkEnqueued marks when the request was queued on the caller's side.
func (t *Timer) MarkEnqueued(ns int64) error {
	if err := t.check(); err != nil {
		return err
	}
	return t.res(C.tks_timer_mark_enqueued(t.t, C.int64_t(ns)))
}

// MarkSent marks when the request was sent: every latency counts from there.
func (t *Timer) MarkSent(ns int64) error {
	if err := t.check(); err != nil {
		return err
	}
	return t.res(C.tks_timer_mark_sent(t.t, C.int64_t(ns)))
}

// MarkFirstByte marks the first byte of the response (the first call counts).
func (t *Timer) MarkFirstByte(ns int64) error {
	if err := t.check(); err != nil {
		return err
	}
	return t.res(C.tks_timer_mark_first_byte(t.t, C.int64_t(ns)))
}

// MarkChunk marks one received chunk carrying tokens tokens (0: not token-bearing),
// with ChunkContent / ChunkReasoning flags.
func (t *Timer) MarkChunk(ns int64, tokens uint32, flags uint32) error {
	if err := t.check(); err != nil {
		return err
	}
	return t.res(C.tks_timer_mark_chunk(t.t, C.int64_t(ns), C.uint32_t(tokens), C.uint32_t(flags)))
}

// MarkUsage records the token usage the stream reported (a value > 0 replaces the
// earlier one).
func (t *Timer) MarkUsage(inputTokens, outputTokens int64) error {
	if err := t.check(); err != nil {
		return err
	}
	return t.res(C.tks_timer_mark_usage(t.t, C.int64_t(inputTokens), C.int64_t(outputTokens)))
}

// MarkEnd marks the end of the stream; cause nil for a clean end, else the error that
// ended it (an *Error's code is recorded; any other error counts as EIO).
func (t *Timer) MarkEnd(ns int64, cause error) error {
	if err := t.check(); err != nil {
		return err
	}
	code := C.int(C.TKS_OK)
	if cause != nil {
		code = C.TKS_EIO
		if e, ok := cause.(*Error); ok && e.Code < 0 {
			code = C.int(e.Code)
		}
	}
	return t.res(C.tks_timer_mark_end(t.t, C.int64_t(ns), code))
}

// Now is the timer's clock (NowNS).
func (t *Timer) Now() int64 {
	if t.check() != nil {
		return NowNS()
	}
	defer runtime.KeepAlive(t)
	return int64(C.tks_timer_now(t.t))
}

// Expired gives the Timeout* bits of the time-outs that have passed at ns.
func (t *Timer) Expired(ns int64) uint32 {
	if t.check() != nil {
		return 0
	}
	defer runtime.KeepAlive(t)
	return uint32(C.tks_timer_expired(t.t, C.int64_t(ns)))
}

// Deadline is the earliest pending time-out (absolute ns), or NoDeadline.
func (t *Timer) Deadline() int64 {
	if t.check() != nil {
		return NoDeadline
	}
	defer runtime.KeepAlive(t)
	return int64(C.tks_timer_deadline(t.t))
}

// Outcome is how the stream ended (OutcomeNone before MarkEnd).
func (t *Timer) Outcome() Outcome {
	if t.check() != nil {
		return OutcomeNone
	}
	defer runtime.KeepAlive(t)
	return Outcome(C.tks_timer_outcome(t.t))
}

// Get gives one per-stream value; ErrEmpty when it is not defined for this stream.
func (t *Timer) Get(m Metric) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	var v C.int64_t
	err := t.res(C.tks_timer_get(t.t, C.int(m), &v))
	return int64(v), err
}

// Results gives everything the timer measured.
func (t *Timer) Results() (TimerResults, error) {
	if err := t.check(); err != nil {
		return TimerResults{}, err
	}
	var r C.tks_timer_results
	if err := t.res(C.tks_timer_results_get(t.t, &r)); err != nil {
		return TimerResults{}, err
	}
	return TimerResults{
		Outcome: Outcome(r.outcome), Timeouts: uint32(r.timeouts), Status: int(r.status),
		TTFC: int64(r.ttfc), TTFT: int64(r.ttft), TTFTReasoning: int64(r.ttft_reasoning),
		TPOT: int64(r.tpot), E2EL: int64(r.e2el), Duration: int64(r.duration),
		Queue: int64(r.queue), OutputTokens: int64(r.output_tokens),
		ChunkTokens: int64(r.chunk_tokens), InputTokens: int64(r.input_tokens),
		Chunks: int64(r.chunks), TokensPerSMilli: int64(r.tokens_per_s_milli),
		EnqueuedNS: int64(r.enqueued_ns), SentNS: int64(r.sent_ns),
		FirstByteNS: int64(r.first_byte_ns), FirstTokenNS: int64(r.first_token_ns),
		FirstContentNS: int64(r.first_content_ns), LastTokenNS: int64(r.last_token_ns),
		EndNS: int64(r.end_ns),
	}, nil
}

// Reset prepares the timer for a new stream, keeping its options.
func (t *Timer) Reset() {
	if t.check() != nil {
		return
	}
	C.tks_timer_reset(t.t)
	runtime.KeepAlive(t)
}

// Close releases the timer; calling it again does nothing. Close the Clients it is
// attached to first.
func (t *Timer) Close() {
	if t == nil || t.t == nil {
		return
	}
	C.tks_timer_free(t.t)
	t.t = nil
	runtime.SetFinalizer(t, nil)
}
