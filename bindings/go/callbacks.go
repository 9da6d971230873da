package tokstream

// The C library calls back into Go through the functions exported here. The user
// pointer it carries is a runtime/cgo.Handle (an integer, never a Go pointer) naming the
// object's sink; every byte is copied out during the call, since the library's pointers
// are valid only then.

/*
#include <stdint.h>
#include "tokstream.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// sink collects what one object's callbacks produced during one call into the library.
type sink struct {
	deltas []Delta
	events []Event
	text   []byte
}

// take returns what was collected and empties the sink.
func (s *sink) takeDeltas() []Delta {
	d := s.deltas
	s.deltas = nil
	return d
}

func (s *sink) takeEvents() []Event {
	e := s.events
	s.events = nil
	return e
}

func (s *sink) takeText() string {
	t := string(s.text)
	s.text = s.text[:0]
	return t
}

func sinkOf(h C.uintptr_t) *sink {
	return cgo.Handle(h).Value().(*sink)
}

//export tksgoDelta
func tksgoDelta(h C.uintptr_t, d *C.tks_delta) C.int {
	s := sinkOf(h)
	s.deltas = append(s.deltas, Delta{
		Kind:            DeltaKind(d.kind),
		Choice:          int32(d.choice),
		Index:           int32(d.index),
		Finish:          FinishReason(d.finish),
		Whole:           uint32(d.flags)&C.TKS_DELTA_WHOLE != 0,
		Text:            gostr(d.text, d.text_len),
		ID:              gostr(d.id, d.id_len),
		Name:            gostr(d.name, d.name_len),
		JSON:            gostr(d.json, d.json_len),
		InputTokens:     int64(d.input_tokens),
		OutputTokens:    int64(d.output_tokens),
		TotalTokens:     int64(d.total_tokens),
		ReasoningTokens: int64(d.reasoning_tokens),
		CachedTokens:    int64(d.cached_tokens),
		Offset:          uint64(d.offset),
	})
	return 0
}

//export tksgoText
func tksgoText(h C.uintptr_t, p *C.char, n C.size_t) C.int {
	s := sinkOf(h)
	if n > 0 {
		s.text = append(s.text, C.GoStringN(p, C.int(n))...)
	}
	return 0
}

//export tksgoEvent
func tksgoEvent(h C.uintptr_t, e *C.tks_event, kind C.int) C.int {
	s := sinkOf(h)
	ev := Event{
		Kind:        EventKind(kind),
		Type:        gostr(e._type, e.type_len),
		Data:        gostr(e.data, e.data_len),
		ID:          gostr(e.id, e.id_len),
		MessageType: gostr(e.message_type, e.message_type_len),
		Offset:      uint64(e.offset),
		RetryMS:     uint64(e.retry_ms),
	}
	if e.n_headers > 0 && e.headers != nil {
		hs := unsafe.Slice(e.headers, int(e.n_headers))
		ev.Headers = make([]Header, len(hs))
		for i := range hs {
			ch := &hs[i]
			ev.Headers[i] = Header{
				Name:    gostr(ch.name, ch.name_len),
				Type:    HeaderType(ch._type),
				Integer: int64(ch.integer),
			}
			if ch.value != nil {
				ev.Headers[i].Value = C.GoBytes(unsafe.Pointer(ch.value), C.int(ch.value_len))
			}
		}
	}
	s.events = append(s.events, ev)
	return 0
}
