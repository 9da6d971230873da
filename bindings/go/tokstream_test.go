package tokstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// ---- environment: the Makefile's TKS_* variables, defaulting to this source tree -------

func envDir(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

var (
	topDir   = envDir("TKS_TOP", filepath.Join("..", ".."))
	buildDir = envDir("TKS_BUILD", filepath.Join(topDir, "build"))
	dataDir  = envDir("TKS_TEST_DATA", filepath.Join(topDir, "test", "data"))
)

func readData(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cli is the release `tokstream` tool of the same build (TKS_CLI as a fallback).
func cli(t *testing.T) string {
	t.Helper()
	p := filepath.Join(buildDir, "tokstream")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p := os.Getenv("TKS_CLI"); p != "" {
		return p
	}
	t.Fatalf("%s is not built (make all)", p)
	return ""
}

// runCLI runs the tool; a non-zero exit is fine (it reports truncation so): the caller
// gets stdout, stderr and whether it succeeded.
func runCLI(t *testing.T, args ...string) (stdout, stderr []byte, ok bool) {
	t.Helper()
	cmd := exec.Command(cli(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%v: %v", args, err)
	}
	return out.Bytes(), errb.Bytes(), err == nil
}

func parseJSON(t *testing.T, what string, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: not JSON (%v): %q", what, err, b)
	}
	return v
}

// pieces cuts b into n-byte pieces (n <= 0: one piece).
func pieces(b []byte, n int) [][]byte {
	if n <= 0 || n >= len(b) {
		return [][]byte{b}
	}
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

// ---- basics ------------------------------------------------------------------------------

func TestVersion(t *testing.T) {
	v := Version()
	var a, b, c uint32
	if _, err := fmt.Sscanf(v, "%d.%d.%d", &a, &b, &c); err != nil {
		t.Fatalf("Version() = %q", v)
	}
	if VersionHex() != a<<16|b<<8|c {
		t.Errorf("VersionHex() = %#x, Version() = %q", VersionHex(), v)
	}
	if NowNS() <= 0 {
		t.Error("NowNS() not positive")
	}
}

func TestErrors(t *testing.T) {
	e := &Error{Code: StatusTruncated, Message: "cut", Offset: 9}
	var err error = e
	if !errors.Is(err, ErrTruncated) || errors.Is(err, ErrProto) {
		t.Error("errors.Is by code")
	}
	wrapped := fmt.Errorf("reading: %w", err)
	var got *Error
	if !errors.As(wrapped, &got) || got.Offset != 9 || !errors.Is(wrapped, ErrTruncated) {
		t.Error("errors.As / errors.Is through a wrap")
	}
	if s := e.Error(); !strings.Contains(s, "ETRUNC") || !strings.Contains(s, "cut") {
		t.Errorf("Error() = %q", s)
	}
	if StatusName(StatusCRC) != "ECRC" || StatusText(StatusOK) == "" || e.Name() != "ETRUNC" {
		t.Error("status names and texts")
	}
	if s := ErrNoMem.Error(); !strings.Contains(s, "out of memory") {
		t.Errorf("a sentinel's Error() uses tks_strerror: %q", s)
	}
	for name, want := range map[string]Dialect{"openai-chat": DialectOpenAIChat,
		"anthropic": DialectAnthropic, "bedrock": DialectBedrock, "": DialectAuto} {
		d, err := ParseDialect(name)
		if err != nil || d != want {
			t.Errorf("ParseDialect(%q) = %v, %v", name, d, err)
		}
	}
	if DialectGemini.String() != "gemini" || FramingJSONArray.String() != "json-array" {
		t.Error("String() of dialects and framings")
	}
	if _, err := ParseDialect("nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseDialect(nope): %v", err)
	}
}

// ---- client ------------------------------------------------------------------------------

// clientFixtures lists test/data/client/*.{sse,ndjson,json,bin}, not the *.expected.json.
func clientFixtures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, ext := range []string{"sse", "ndjson", "json", "bin"} {
		m, err := filepath.Glob(filepath.Join(dataDir, "client", "*."+ext))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if !strings.HasSuffix(f, ".expected.json") {
				files = append(files, f)
			}
		}
	}
	if len(files) < 6 {
		t.Fatalf("only %d client fixtures in %s/client", len(files), dataDir)
	}
	return files
}

// assemble feeds b to a new client in n-byte pieces and returns the deltas, the finish
// error and the message.
func assemble(t *testing.T, b []byte, n int, opts *ClientOptions) ([]Delta, error, []byte, *Message) {
	t.Helper()
	c, err := NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var all []Delta
	for _, p := range pieces(b, n) {
		d, err := c.Push(p)
		all = append(all, d...)
		if err != nil {
			t.Fatalf("push: %v", err)
		}
	}
	d, ferr := c.Finish()
	all = append(all, d...)
	js, err := c.MessageJSON()
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Message()
	if err != nil {
		t.Fatal(err)
	}
	return all, ferr, js, m
}

// checkMessage compares the client's JSON and typed message with the CLI's JSON.
func checkMessage(t *testing.T, want any, js []byte, m *Message) {
	t.Helper()
	if got := parseJSON(t, "MessageJSON", js); !reflect.DeepEqual(got, want) {
		t.Errorf("message differs from `tokstream assemble`:\n got  %s\n want %v", js, want)
	}
	// The typed Message carries every field: marshalled again it is the same document.
	re, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := parseJSON(t, "json.Marshal(Message)", re); !reflect.DeepEqual(got, want) {
		t.Errorf("typed Message loses something:\n got  %s\n want %v", re, want)
	}
}

func TestClientFixtures(t *testing.T) {
	for _, f := range clientFixtures(t) {
		f := f
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, _, _ := runCLI(t, "assemble", f)
		want := parseJSON(t, "tokstream assemble "+f, out)
		complete := want.(map[string]any)["complete"] == true
		for _, n := range []int{0, 7} {
			name := filepath.Base(f) + "/whole"
			if n > 0 {
				name = fmt.Sprintf("%s/%d-byte", filepath.Base(f), n)
			}
			t.Run(name, func(t *testing.T) {
				deltas, ferr, js, m := assemble(t, raw, n, nil)
				checkMessage(t, want, js, m)
				if complete && ferr != nil {
					t.Errorf("Finish: %v", ferr)
				}
				if !complete && !errors.Is(ferr, ErrTruncated) {
					t.Errorf("Finish of an incomplete stream: %v", ferr)
				}
				if m.Complete != complete {
					t.Errorf("Message().Complete = %v", m.Complete)
				}
				// The deltas tell the same story as the message.
				var text, args strings.Builder
				done := false
				for _, d := range deltas {
					switch d.Kind {
					case DeltaText:
						if d.Choice == 0 {
							text.WriteString(d.Text)
						}
					case DeltaToolArgs:
						if d.Choice == 0 && d.Index == 0 {
							args.WriteString(d.Text)
						}
					case DeltaDone:
						done = true
					}
					if d.Offset > uint64(len(raw)) {
						t.Errorf("delta %v offset %d past the input", d.Kind, d.Offset)
					}
				}
				if done != complete {
					t.Errorf("a Done delta: %v, complete: %v", done, complete)
				}
				if len(m.Choices) > 0 {
					ch := m.Choices[0]
					if ch.Content != nil && text.String() != *ch.Content {
						t.Errorf("text deltas %q, content %q", text.String(), *ch.Content)
					}
					if len(ch.ToolCalls) > 0 && ch.ToolCalls[0].Index == 0 &&
						args.String() != ch.ToolCalls[0].Arguments {
						t.Errorf("tool args deltas %q, arguments %q", args.String(),
							ch.ToolCalls[0].Arguments)
					}
				}
			})
		}
	}
}

// A cut stream: Finish reports ErrTruncated with an offset, and the message holds what
// came (the same as the CLI's).
func TestClientTruncated(t *testing.T) {
	tmp := t.TempDir()
	for _, f := range clientFixtures(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cut := raw[:len(raw)/2]
		if strings.HasSuffix(f, ".ndjson") {
			// A last NDJSON line needs no newline: cut after one, or the cut line is
			// a malformed JSON text rather than a truncation.
			cut = cut[:bytes.LastIndexByte(cut, '\n')+1]
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			cf := filepath.Join(tmp, filepath.Base(f))
			if err := os.WriteFile(cf, cut, 0o644); err != nil {
				t.Fatal(err)
			}
			out, _, ok := runCLI(t, "assemble", cf)
			if ok {
				t.Errorf("the CLI says the cut stream is fine")
			}
			want := parseJSON(t, "tokstream assemble (cut)", out)
			for _, n := range []int{0, 7} {
				_, ferr, js, m := assemble(t, cut, n, nil)
				checkMessage(t, want, js, m)
				var e *Error
				if !errors.Is(ferr, ErrTruncated) || !errors.As(ferr, &e) {
					t.Fatalf("pieces of %d: Finish = %v, want ErrTruncated", n, ferr)
				}
				if e.Offset == 0 || e.Offset > uint64(len(cut)) || e.Message == "" {
					t.Errorf("pieces of %d: offset %d (cut at %d), message %q", n, e.Offset,
						len(cut), e.Message)
				}
				if m.Complete {
					t.Error("a cut stream is complete")
				}
			}
		})
	}
}

func TestClientErrorsAndState(t *testing.T) {
	raw := readData(t, "client/openai-chat.sse")
	c, err := NewClient(&ClientOptions{Dialect: DialectOpenAIChat, Framing: FramingSSE})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Push(raw); err != nil {
		t.Fatal(err)
	}
	if c.Framing() != FramingSSE || c.Dialect() != DialectOpenAIChat {
		t.Errorf("framing %v, dialect %v", c.Framing(), c.Dialect())
	}
	if _, err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push([]byte("data: {}\n\n")); !errors.Is(err, ErrState) {
		t.Errorf("push after finish: %v", err)
	}
	// Reset: a new stream, same client, same result.
	c.Reset()
	if _, err := c.Push(raw[:len(raw)/3]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(raw[len(raw)/3:]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Finish(); err != nil {
		t.Errorf("finish after reset: %v", err)
	}
	// Auto detection: framing and dialect decided from the data.
	for file, want := range map[string][2]string{
		"client/bedrock-converse.bin": {"eventstream", "bedrock"},
		"client/gemini-array.json":    {"json-array", "gemini"},
		"client/ollama-chat.ndjson":   {"ndjson", "ollama"},
		"client/anthropic-tool.sse":   {"sse", "anthropic"},
	} {
		c, err := NewClient(nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Framing() != FramingAuto || c.Dialect() != DialectAuto {
			t.Error("a fresh client has decided already")
		}
		if _, err := c.Push(readData(t, file)); err != nil {
			t.Fatal(err)
		}
		if c.Framing().String() != want[0] || c.Dialect().String() != want[1] {
			t.Errorf("%s: %v %v, want %v", file, c.Framing(), c.Dialect(), want)
		}
		c.Close()
		c.Close() // twice is fine
		if _, err := c.Push(nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("push after close: %v", err)
		}
	}
	// Malformed input: a sticky error with an offset.
	c2, _ := NewClient(&ClientOptions{Dialect: DialectOpenAIChat})
	defer c2.Close()
	_, err = c2.Push([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {oops\n\n"))
	var e *Error
	if !errors.As(err, &e) || e.Code >= 0 || e.Offset == 0 {
		t.Errorf("malformed chunk: %#v", err)
	}
	if _, err2 := c2.Push([]byte("\n")); !errors.Is(err2, e) {
		t.Errorf("the error is sticky: %v then %v", err, err2)
	}
	if _, err := NewClient(&ClientOptions{Dialect: 99}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown dialect: %v", err)
	}
}

// Distinct clients in distinct goroutines (run with -race by test/t_go.sh).
func TestClientConcurrent(t *testing.T) {
	files := clientFixtures(t)
	inputs := make([][]byte, len(files))
	wants := make([]any, len(files))
	for i, f := range files {
		var err error
		if inputs[i], err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
		out, _, _ := runCLI(t, "assemble", f)
		wants[i] = parseJSON(t, f, out)
	}
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c, err := NewClient(nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for r := 0; r < rounds; r++ {
				i := (w + r) % len(inputs)
				c.Reset()
				for _, p := range pieces(inputs[i], 1+(w+r)%13) {
					if _, err := c.Push(p); err != nil {
						errs <- err
						return
					}
				}
				c.Finish()
				js, err := c.MessageJSON()
				if err != nil {
					errs <- err
					return
				}
				var got any
				if err := json.Unmarshal(js, &got); err != nil || !reflect.DeepEqual(got, wants[i]) {
					errs <- fmt.Errorf("worker %d round %d: %s differs", w, r, files[i])
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClientTimer(t *testing.T) {
	tm, err := NewTimer(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if err := tm.MarkSent(tm.Now()); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(&ClientOptions{Timer: tm})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range pieces(readData(t, "client/openai-chat.sse"), 64) {
		if _, err := c.Push(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	r, err := tm.Results()
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != OutcomeOK || r.Chunks <= 0 || r.TTFC < 0 || r.E2EL < r.TTFC ||
		r.InputTokens != 19 || r.OutputTokens != 15 || r.FirstByteNS < r.SentNS {
		t.Errorf("results %+v", r)
	}
}

// ---- timer by hand -------------------------------------------------------------------------

func TestTimer(t *testing.T) {
	tm, err := NewTimer(&TimerOptions{FirstToken: 1000, Total: 10000})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tm.MarkEnqueued(50))
	must(tm.MarkSent(100))
	if d := tm.Deadline(); d != 1100 {
		t.Errorf("deadline %d, want 1100", d)
	}
	must(tm.MarkFirstByte(150))
	must(tm.MarkChunk(200, 0, 0))              // role only: moves nothing
	must(tm.MarkChunk(300, 1, ChunkReasoning)) // first token
	must(tm.MarkChunk(500, 2, ChunkContent))   // first content
	must(tm.MarkChunk(900, 1, ChunkContent))
	must(tm.MarkUsage(7, 4))
	if tm.Expired(1200) != 0 {
		t.Error("first-token time-out after a token")
	}
	if tm.Expired(20000)&TimeoutTotal == 0 {
		t.Error("total time-out")
	}
	must(tm.MarkEnd(1000, nil))
	r, err := tm.Results()
	must(err)
	want := TimerResults{Outcome: OutcomeOK, TTFC: 200, TTFT: 400, TTFTReasoning: 200,
		TPOT: 200, E2EL: 800, Duration: 900, Queue: 50, OutputTokens: 4, ChunkTokens: 4,
		InputTokens: 7, Chunks: 3, TokensPerSMilli: 5000000000, EnqueuedNS: 50,
		SentNS: 100, FirstByteNS: 150, FirstTokenNS: 300, FirstContentNS: 500,
		LastTokenNS: 900, EndNS: 1000}
	if r != want {
		t.Errorf("results\n got  %+v\n want %+v", r, want)
	}
	if v, err := tm.Get(MetricTTFT); err != nil || v != 400 {
		t.Errorf("Get(TTFT) = %d, %v", v, err)
	}
	if err := tm.MarkChunk(1100, 1, 0); !errors.Is(err, ErrState) {
		t.Errorf("mark after end: %v", err)
	}
	tm.Reset()
	if tm.Outcome() != OutcomeNone {
		t.Error("reset")
	}
	if _, err := tm.Get(MetricTTFC); !errors.Is(err, ErrEmpty) {
		t.Errorf("Get on an empty timer: %v", err)
	}
	must(tm.MarkSent(100))
	if err := tm.MarkChunk(50, 1, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("time going backwards: %v", err)
	}
}

// ---- framing parsers -------------------------------------------------------------------

// sseLog renders events as test/data/sse/*.expected does (test/t_sse_parser.c).
func sseLog(evs []Event) string {
	esc := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\':
				b.WriteString(`\\`)
			case c == '|':
				b.WriteString(`\|`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == 0:
				b.WriteString(`\0`)
			case c < 0x20 || c == 0x7f:
				fmt.Fprintf(&b, `\x%02x`, c)
			default:
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	var b strings.Builder
	for _, e := range evs {
		switch e.Kind {
		case EventComment:
			fmt.Fprintf(&b, "C|%s\n", esc(e.Data))
		case EventRetry:
			fmt.Fprintf(&b, "R|%d\n", e.RetryMS)
		default:
			fmt.Fprintf(&b, "E|%s|%s|%s\n", esc(e.Type), esc(e.ID), esc(e.Data))
		}
	}
	return b.String()
}

func TestSSEParserFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(dataDir, "sse", "*.sse"))
	if len(files) < 4 {
		t.Fatalf("only %d fixtures in %s/sse", len(files), dataDir)
	}
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(strings.TrimSuffix(f, ".sse") + ".expected")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 7} {
			t.Run(fmt.Sprintf("%s/%d", filepath.Base(f), n), func(t *testing.T) {
				p, err := NewSSEParser(&ParserOptions{Comments: true, Retry: true})
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				var evs []Event
				for _, piece := range pieces(in, n) {
					e, err := p.Push(piece)
					evs = append(evs, e...)
					if err != nil {
						t.Fatal(err)
					}
				}
				e, err := p.Finish()
				evs = append(evs, e...)
				got := sseLog(evs)
				var ge *Error
				switch {
				case err == nil:
					got += "=OK\n"
				case errors.As(err, &ge):
					got += fmt.Sprintf("=%s@%d\n", ge.Name(), ge.Offset)
				default:
					t.Fatal(err)
				}
				if !strings.HasSuffix(string(want), "\n") {
					want = append(want, '\n')
				}
				if strings.Contains(string(want), "\n=") || strings.HasPrefix(string(want), "=") {
					if got != string(want) {
						t.Errorf("got\n%s\nwant\n%s", got, want)
					}
				} else if got != string(want)+"=OK\n" {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
				for _, ev := range evs {
					if !utf8.ValidString(ev.Data) || !utf8.ValidString(ev.Type) {
						t.Errorf("invalid UTF-8 in %v", ev)
					}
				}
			})
		}
	}
}

func TestSSEParserDetails(t *testing.T) {
	p, err := NewSSEParser(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	in := []byte(": ping\nid: 41\ndata: a\r\n\r")
	evs, err := p.Push(in)
	if err != nil || len(evs) != 1 || evs[0].Data != "a" || evs[0].ID != "41" ||
		evs[0].Type != "message" || evs[0].Offset != 7 {
		t.Fatalf("%v %v", evs, err)
	}
	if p.LastEventID() != "41" {
		t.Errorf("LastEventID %q", p.LastEventID())
	}
	// A CR at the end of one push and an LF at the start of the next are one line end.
	evs, err = p.Push([]byte("\ndata: b\n"))
	if err != nil || len(evs) != 0 {
		t.Fatalf("%v %v", evs, err)
	}
	evs, err = p.Finish()
	var e *Error
	if len(evs) != 0 || !errors.Is(err, ErrTruncated) || !errors.As(err, &e) || e.Offset != 25 {
		t.Errorf("unterminated event: %v %#v", evs, err)
	}
	p.Reset()
	if p.LastEventID() != "" {
		t.Error("reset keeps the last id")
	}
	// RawUTF8 leaves invalid bytes alone; the default replaces them.
	for _, raw := range []bool{false, true} {
		q, _ := NewSSEParser(&ParserOptions{RawUTF8: raw})
		evs, _ := q.Push([]byte("data: a\xffb\n\n"))
		want := "a\uFFFDb"
		if raw {
			want = "a\xffb"
		}
		if len(evs) != 1 || evs[0].Data != want {
			t.Errorf("raw %v: %q", raw, evs)
		}
		q.Close()
	}
	q, _ := NewSSEParser(&ParserOptions{MaxLine: 16})
	defer q.Close()
	if _, err := q.Push([]byte("data: " + strings.Repeat("x", 40) + "\n\n")); !errors.Is(err, ErrLimit) {
		t.Errorf("line over MaxLine: %v", err)
	}
}

// cliEvent is one line of `tokstream events` output.
type cliEvent struct {
	Event       string         `json:"event"`
	Data        string         `json:"data"`
	ID          string         `json:"id"`
	MessageType string         `json:"message_type"`
	Headers     map[string]any `json:"headers"`
	Retry       *uint64        `json:"retry"`
	Comment     *string        `json:"comment"`
}

// The other framings against `tokstream events`, whole and in 7-byte pieces.
func TestFramingParsers(t *testing.T) {
	cases := []struct {
		file, flag string
		make       func(*ParserOptions) (*Parser, error)
		err        *Error
	}{
		{"small.sse", "", NewSSEParser, nil},
		{"truncated.sse", "", NewSSEParser, ErrTruncated},
		{"small.ndjson", "--ndjson", NewNDJSONParser, nil},
		{"small-array.json", "--json-array", NewJSONArrayParser, nil},
		{"truncated.json", "--json-array", NewJSONArrayParser, ErrTruncated},
		{"bad.json", "--json-array", NewJSONArrayParser, nil},
		{"small.eventstream", "--eventstream", NewEventStreamParser, nil},
		{"truncated.eventstream", "--eventstream", NewEventStreamParser, ErrTruncated},
		{"bad-message-crc.eventstream", "--eventstream", NewEventStreamParser, ErrCRC},
		{"bad-prelude-crc.eventstream", "--eventstream", NewEventStreamParser, ErrCRC},
		{"bad-length.eventstream", "--eventstream", NewEventStreamParser, nil},
	}
	for _, tc := range cases {
		tc := tc
		path := filepath.Join(dataDir, "framing", tc.file)
		in, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"events"}
		if tc.flag != "" {
			args = append(args, tc.flag)
		}
		out, _, cliOK := runCLI(t, append(args, path)...)
		var want []cliEvent
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			var ce cliEvent
			if err := json.Unmarshal(sc.Bytes(), &ce); err != nil {
				t.Fatalf("%s: %q", tc.file, sc.Bytes())
			}
			if ce.Retry == nil && ce.Comment == nil {
				want = append(want, ce)
			}
		}
		for _, n := range []int{0, 7} {
			t.Run(fmt.Sprintf("%s/%d", tc.file, n), func(t *testing.T) {
				p, err := tc.make(nil)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				var evs []Event
				var perr error
				for _, piece := range pieces(in, n) {
					e, err := p.Push(piece)
					evs = append(evs, e...)
					if err != nil {
						perr = err
						break
					}
				}
				if perr == nil {
					var e []Event
					e, perr = p.Finish()
					evs = append(evs, e...)
				}
				if (perr == nil) != cliOK {
					t.Errorf("error %v, the CLI's exit ok %v", perr, cliOK)
				}
				var ge *Error
				if perr != nil && (!errors.As(perr, &ge) || ge.Message == "") {
					t.Errorf("error without a message: %#v", perr)
				}
				if tc.err != nil && !errors.Is(perr, tc.err) {
					t.Errorf("error %v, want %v", perr, tc.err)
				}
				if len(evs) != len(want) {
					t.Fatalf("%d events, the CLI %d:\n%v", len(evs), len(want), evs)
				}
				for i, e := range evs {
					w := want[i]
					if e.Type != w.Event || e.Data != w.Data || e.ID != w.ID ||
						e.MessageType != w.MessageType || len(e.Headers) != len(w.Headers) {
						t.Errorf("event %d: %v, the CLI %+v", i, e, w)
					}
					for _, h := range e.Headers {
						if _, ok := w.Headers[h.Name]; !ok {
							t.Errorf("event %d: header %q not in the CLI's", i, h.Name)
						}
					}
				}
			})
		}
	}
	// Typed headers.
	p, _ := NewEventStreamParser(nil)
	defer p.Close()
	evs, _ := p.Push(readData(t, "framing/small.eventstream"))
	found := false
	for _, e := range evs {
		if e.Type != "allTypes" {
			continue
		}
		found = true
		h := map[string]Header{}
		for _, x := range e.Headers {
			h[x.Name] = x
		}
		if h["t"].Type != HeaderTrue || h["b"].Integer != -5 || h["l"].Integer != -5000000000 ||
			string(h["str"].Value) != "héllo" || h["ts"].Type != HeaderTimestamp ||
			h["ts"].Integer != 1700000000000 || len(h["u"].Value) != 16 ||
			!bytes.Equal(h["y"].Value, []byte{0, 0xff, 0x10}) {
			t.Errorf("typed headers: %+v", e.Headers)
		}
	}
	if !found {
		t.Error("no allTypes frame")
	}
}

// ---- vocabulary and detokenizer ------------------------------------------------------------

func loadVocab(t *testing.T, name string) *Vocab {
	t.Helper()
	b := readData(t, "vocab/"+name)
	var v *Vocab
	var err error
	if strings.HasSuffix(name, ".tiktoken") {
		v, err = LoadVocabTiktoken(b, []SpecialToken{{"<|endoftext|>", 25}})
	} else {
		v, err = LoadVocabHF(b)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// detokAll decodes ids pushed in pieces ending at cuts (then the rest).
func detokAll(t *testing.T, v *Vocab, opts *DetokOptions, ids []int32, cuts []int) string {
	t.Helper()
	d, err := NewDetok(v, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var b strings.Builder
	at := 0
	for _, c := range append(cuts, len(ids)) {
		s, err := d.Push(ids[at:c]...)
		if err != nil {
			t.Fatalf("push %v: %v", ids[at:c], err)
		}
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 delta %q", s)
		}
		b.WriteString(s)
		at = c
	}
	s, err := d.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return b.String() + s
}

// The cases of test/t_detok.c: the same text whatever the cut.
func TestDetokVocabCases(t *testing.T) {
	skip := &DetokOptions{SkipSpecial: true}
	cases := []struct {
		vocab string
		opts  *DetokOptions
		ids   []int32
		want  string
	}{
		{"tiny.tiktoken", nil, []int32{0, 1, 4}, "Hello world!"},
		{"tiny.tiktoken", nil, []int32{0, 6, 17, 3, 4}, "Hello 👋👋!"},
		{"tiny.tiktoken", nil, []int32{0, 8, 13, 11}, "Hello\uFFFDA\uFFFD"},
		{"tiny.tiktoken", nil, []int32{0, 25}, "Hello<|endoftext|>"},
		{"tiny.tiktoken", skip, []int32{0, 25, 1}, "Hello world"},
		{"tiny.tiktoken", &DetokOptions{Grapheme: true}, []int32{0, 5, 2, 3, 14, 2, 3, 18, 19},
			"Hello 👋\u200d👋e\u0301"},
		{"bytelevel.json", nil, []int32{0, 1}, "Hello world"},
		{"bytelevel.json", nil, []int32{0, 9, 14}, "Hello 👋!"},
		{"bytelevel.json", nil, []int32{0, 10, 1}, "Hello<|end|> world"},
		{"bytelevel.json", skip, []int32{0, 10, 1}, "Hello world"},
		{"bytelevel.json", nil, []int32{0, 6, 0}, "Hello\x00Hello"},
		{"bytelevel.json", nil, []int32{0, 4}, "Hello\uFFFD"},
		{"bytelevel.json", nil, []int32{12}, "Za\rnimo"},
		{"spm_bytefallback.json", nil, []int32{9, 10}, "Hello world"},
		{"spm_bytefallback.json", nil, []int32{1, 9}, "<s> Hello"},
		{"spm_bytefallback.json", skip, []int32{1, 9}, "Hello"},
		{"spm_bytefallback.json", nil, []int32{9, 4, 5, 6, 7}, "Hello👋"},
		{"spm_bytefallback.json", nil, []int32{4, 5, 8}, "\uFFFDA"},
		{"spm_bytefallback.json", nil, []int32{14, 15, 16}, "中"},
		{"spm_bytefallback.json", skip, []int32{2}, ""},
		{"gemma_style.json", nil, []int32{5, 3, 4}, "café"},
		{"metaspace_first.json", nil, []int32{1, 2}, "Hello world"},
		{"metaspace_first.json", skip, []int32{6, 1}, "Hello"},
		{"metaspace_always.json", nil, []int32{2, 4}, "world  x"},
		{"metaspace_never.json", nil, []int32{1, 2}, " Hello world"},
		{"metaspace_legacy_noprefix.json", nil, []int32{1, 2}, " Hello world"},
		{"metaspace_legacy_prefix.json", nil, []int32{1, 2}, "Hello world"},
		{"wordpiece.json", nil, []int32{6, 5}, "playing"},
		{"wordpiece.json", nil, []int32{12, 11, 13}, "it's?"},
		{"wordpiece.json", nil, []int32{1, 3, 2}, "[CLS] hello [SEP]"},
		{"wordpiece.json", skip, []int32{1, 3, 2}, "hello"},
		{"wordpiece_nocleanup.json", nil, []int32{8, 10}, "do n't"},
		{"wordlevel.json", nil, []int32{1, 2, 3}, "a b c"},
		{"wordlevel.json", nil, []int32{4, 5}, "😀 été"},
		{"strip_pertoken.json", nil, []int32{3, 3}, "_c__c_"},
		{"after_fuse.json", nil, []int32{2, 0, 2, 3}, "cacd"},
		{"bpe_suffix.json", nil, []int32{0, 1, 2, 3}, "hello world"},
		{"bpe_suffix.json", nil, []int32{4, 0}, "a bhel"},
	}
	vocabs := map[string]*Vocab{}
	defer func() {
		for _, v := range vocabs {
			v.Close()
		}
	}()
	for _, tc := range cases {
		v := vocabs[tc.vocab]
		if v == nil {
			v = loadVocab(t, tc.vocab)
			vocabs[tc.vocab] = v
		}
		name := fmt.Sprintf("%s/%v", tc.vocab, tc.ids)
		if tc.opts != nil && tc.opts.SkipSpecial {
			name += "/skip-special"
		}
		if tc.opts != nil && tc.opts.Grapheme {
			name += "/grapheme"
		}
		t.Run(name, func(t *testing.T) {
			if got := detokAll(t, v, tc.opts, tc.ids, nil); got != tc.want {
				t.Fatalf("one push: %q, want %q", got, tc.want)
			}
			one := make([]int, 0, len(tc.ids))
			for i := 1; i < len(tc.ids); i++ {
				one = append(one, i)
			}
			if got := detokAll(t, v, tc.opts, tc.ids, one); got != tc.want {
				t.Fatalf("one id per push: %q, want %q", got, tc.want)
			}
			for k := 1; k < len(tc.ids); k++ {
				if got := detokAll(t, v, tc.opts, tc.ids, []int{k}); got != tc.want {
					t.Fatalf("split at %d: %q, want %q", k, got, tc.want)
				}
			}
		})
	}
}

func TestDetokDetails(t *testing.T) {
	v := loadVocab(t, "tiny.tiktoken")
	defer v.Close()
	if v.Size() < 26 {
		t.Errorf("Size %d", v.Size())
	}
	if b, flags, err := v.Token(25); err != nil || string(b) != "<|endoftext|>" || flags&TokenSpecial == 0 {
		t.Errorf("Token(25) = %q %x %v", b, flags, err)
	}
	if _, _, err := v.Token(99999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Token(99999): %v", err)
	}
	d, err := NewDetok(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// Text goes out as soon as it is whole characters.
	if s, err := d.Push(0, 6); err != nil || s != "Hello " {
		t.Errorf("Push(0, 6) = %q, %v", s, err)
	}
	// An unknown id: ErrNotFound, its index as the offset, the text before it kept.
	s, err := d.Push(17, 3, 999, 4)
	var e *Error
	if s != "👋👋" || !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || e.Offset != 4 ||
		!strings.Contains(e.Message, "999") {
		t.Errorf("unknown id: %q %#v", s, err)
	}
	if _, err := d.Push(1); !errors.Is(err, ErrNotFound) {
		t.Errorf("sticky: %v", err)
	}
	d.Reset()
	if s, err := d.Push(0, 1); err != nil || s != "Hello world" {
		t.Errorf("after reset: %q %v", s, err)
	}
	if s, err := d.Finish(); err != nil || s != "" {
		t.Errorf("Finish %q %v", s, err)
	}
	if _, err := d.Push(4); !errors.Is(err, ErrState) {
		t.Errorf("push after finish: %v", err)
	}
	// SkipUnknown, and priming with the prompt's last id.
	d2, _ := NewDetok(v, &DetokOptions{SkipUnknown: true})
	defer d2.Close()
	if s, err := d2.Push(0, 999, 1); err != nil || s != "Hello world" {
		t.Errorf("SkipUnknown: %q %v", s, err)
	}
	sp := loadVocab(t, "spm_bytefallback.json")
	defer sp.Close()
	d3, _ := NewDetok(sp, nil)
	defer d3.Close()
	if err := d3.Prime(9); err != nil {
		t.Fatal(err)
	}
	if s, err := d3.Push(10); err != nil || s != " world" {
		t.Errorf("primed: %q %v (no first-token strip)", s, err)
	}
	if err := d3.Prime(9); !errors.Is(err, ErrState) {
		t.Errorf("prime after push: %v", err)
	}
	// Unsupported decoders are refused with the reason.
	_, err = LoadVocabHF(readData(t, "vocab/unsupported_regex.json"))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Regex") {
		t.Errorf("unsupported_regex.json: %v", err)
	}
	if _, err := LoadVocabHF([]byte(`{"model": {"vocab": `)); err == nil {
		t.Error("a cut tokenizer.json loads")
	} else if e, ok := err.(*Error); !ok || e.Offset == 0 {
		t.Errorf("a cut tokenizer.json: %#v", err)
	}
	if _, err := NewDetok(nil, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("NewDetok(nil): %v", err)
	}
}

func TestVocabAddAndSpecials(t *testing.T) {
	v, err := NewVocab(&VocabOptions{StripStart: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for id, s := range []string{" Hello", " world", "</s>"} {
		flags := uint32(0)
		if id == 2 {
			flags = TokenSpecial
		}
		if err := v.Add(int32(id), []byte(s), flags); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Add(-1, []byte("x"), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative id: %v", err)
	}
	if got := detokAll(t, v, &DetokOptions{SkipSpecial: true}, []int32{0, 2, 1}, nil); got != "Hello world" {
		t.Errorf("added vocabulary: %q", got)
	}
	sp, err := TiktokenSpecials("cl100k_base")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range sp {
		found = found || (s.Name == "<|endoftext|>" && s.ID == 100257)
	}
	if !found {
		t.Errorf("cl100k_base specials: %v", sp)
	}
	if _, err := TiktokenSpecials("p50k_nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown encoding: %v", err)
	}
	tv, err := LoadVocabTiktoken(readData(t, "vocab/tiny.tiktoken"), sp)
	if err != nil {
		t.Fatal(err)
	}
	defer tv.Close()
	if got := detokAll(t, tv, nil, []int32{0, 100257, 1}, nil); got != "Hello<|endoftext|> world" {
		t.Errorf("cl100k specials: %q", got)
	}
}

// One vocabulary shared by detoks in many goroutines.
func TestDetokConcurrent(t *testing.T) {
	v := loadVocab(t, "tiny.tiktoken")
	defer v.Close()
	ids := []int32{0, 6, 17, 3, 4, 0, 1, 4}
	const want = "Hello 👋👋!Hello world!"
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			d, err := NewDetok(v, nil)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer d.Close()
			for r := 0; r < 50; r++ {
				d.Reset()
				var b strings.Builder
				for _, id := range ids {
					s, err := d.Push(id)
					if err != nil {
						errs <- err.Error()
						return
					}
					b.WriteString(s)
				}
				s, _ := d.Finish()
				if b.String()+s != want {
					errs <- fmt.Sprintf("worker %d: %q", w, b.String()+s)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
