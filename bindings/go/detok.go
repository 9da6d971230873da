package tokstream

/*
#include <stdint.h>
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// TokenSpecial marks a special (control) token (TKS_TOKEN_SPECIAL): a Detok made with
// SkipSpecial drops it.
const TokenSpecial uint32 = C.TKS_TOKEN_SPECIAL

// SpecialToken is a special token given by name, for tiktoken files (whose specials
// live in code).
type SpecialToken struct {
	Name string // the token's text
	ID   int32
}

// VocabOptions configures a Vocab; the zero value (or nil) means the defaults.
type VocabOptions struct {
	MaxTokens  int    // largest id + 1 accepted; 0 = 16 Mi ids
	MaxBytes   int    // all tokens' bytes together; 0 = 256 MiB
	StripStart uint32 // for a vocabulary filled with Add: leading spaces removed from
	// the start of each decoded text (SentencePiece's Strip(" ", 1, 0)); loaders take
	// it from the file
}

// Vocab is a decode-only vocabulary: token id -> bytes (tks_vocab). Filled once (by a
// loader or by Add), it is read-only and may be shared by any number of Detoks in any
// goroutines. Close it only after every Detok made over it is closed.
type Vocab struct {
	v *C.tks_vocab
}

// NewVocab makes an empty vocabulary, to fill with Add (or one loader method).
func NewVocab(opts *VocabOptions) (*Vocab, error) {
	var cfg C.tks_vocab_config
	if opts != nil {
		if opts.MaxTokens < 0 || opts.MaxBytes < 0 {
			return nil, goError(StatusInvalid, "negative limit")
		}
		cfg.max_tokens = C.size_t(opts.MaxTokens)
		cfg.max_bytes = C.size_t(opts.MaxBytes)
		cfg.strip_start = C.uint32_t(opts.StripStart)
	}
	var v *C.tks_vocab
	if rc := C.tks_vocab_new(&v, &cfg); rc != C.TKS_OK {
		return nil, status(rc, nil, 0)
	}
	vo := &Vocab{v: v}
	runtime.SetFinalizer(vo, (*Vocab).Close)
	return vo, nil
}

// LoadVocabHF makes a vocabulary from the bytes of a Hugging Face tokenizer.json
// (tks_vocab_load_hf(3)). A decoder chain it cannot reproduce exactly is
// ErrUnsupported, with the reason in the error.
func LoadVocabHF(tokenizerJSON []byte) (*Vocab, error) {
	v, err := NewVocab(nil)
	if err != nil {
		return nil, err
	}
	rc := C.tks_vocab_load_hf(v.v, cbytes(tokenizerJSON), C.size_t(len(tokenizerJSON)))
	runtime.KeepAlive(tokenizerJSON)
	if rc != C.TKS_OK {
		err := v.err(rc)
		v.Close()
		return nil, err
	}
	return v, nil
}

// LoadVocabTiktoken makes a vocabulary from a tiktoken file (lines of "base64 rank")
// plus the special tokens given (see TiktokenSpecials).
func LoadVocabTiktoken(data []byte, specials []SpecialToken) (*Vocab, error) {
	v, err := NewVocab(nil)
	if err != nil {
		return nil, err
	}
	// The specials array holds pointers, so it and the names live in C memory.
	var sp *C.tks_special_token
	if len(specials) > 0 {
		size := C.size_t(len(specials)) * C.size_t(unsafe.Sizeof(C.tks_special_token{}))
		sp = (*C.tks_special_token)(C.malloc(size))
		arr := unsafe.Slice(sp, len(specials))
		for i, s := range specials {
			arr[i].name = C.CString(s.Name)
			arr[i].id = C.int32_t(s.ID)
		}
		defer func() {
			for i := range arr {
				C.free(unsafe.Pointer(arr[i].name))
			}
			C.free(unsafe.Pointer(sp))
		}()
	}
	rc := C.tks_vocab_load_tiktoken(v.v, cbytes(data), C.size_t(len(data)), sp,
		C.size_t(len(specials)))
	runtime.KeepAlive(data)
	if rc != C.TKS_OK {
		err := v.err(rc)
		v.Close()
		return nil, err
	}
	return v, nil
}

// TiktokenSpecials gives the built-in special tokens of a tiktoken encoding
// ("cl100k_base", "o200k_base"); ErrNotFound for another name.
func TiktokenSpecials(encoding string) ([]SpecialToken, error) {
	cs := C.CString(encoding)
	defer C.free(unsafe.Pointer(cs))
	var sp *C.tks_special_token
	var n C.size_t
	if rc := C.tks_vocab_tiktoken_specials(cs, &sp, &n); rc != C.TKS_OK {
		return nil, &Error{Code: int(rc), Message: "no built-in specials for " + encoding}
	}
	out := make([]SpecialToken, int(n))
	for i, s := range unsafe.Slice(sp, int(n)) {
		out[i] = SpecialToken{Name: C.GoString(s.name), ID: int32(s.id)}
	}
	return out, nil
}

func (v *Vocab) check() error {
	if v == nil || v.v == nil {
		return goError(StatusInvalid, "vocabulary is closed")
	}
	return nil
}

func (v *Vocab) err(rc C.int) error {
	return status(rc, C.tks_vocab_error(v.v), C.tks_vocab_offset(v.v))
}

// Add sets token id's bytes (replacing an earlier entry) and flags (TokenSpecial).
func (v *Vocab) Add(id int32, b []byte, flags uint32) error {
	if err := v.check(); err != nil {
		return err
	}
	rc := C.tks_vocab_add(v.v, C.int32_t(id), cbytes(b), C.size_t(len(b)), C.uint32_t(flags))
	runtime.KeepAlive(b)
	err := v.err(rc)
	runtime.KeepAlive(v)
	return err
}

// Token gives a token's bytes (as in the middle of a sequence) and flags; ErrNotFound
// when the vocabulary lacks it.
func (v *Vocab) Token(id int32) ([]byte, uint32, error) {
	if err := v.check(); err != nil {
		return nil, 0, err
	}
	defer runtime.KeepAlive(v)
	var p *C.char
	var n C.size_t
	var flags C.uint32_t
	if rc := C.tks_vocab_token(v.v, C.int32_t(id), &p, &n, &flags); rc != C.TKS_OK {
		return nil, 0, &Error{Code: int(rc), Message: "no token with that id"}
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n)), uint32(flags), nil
}

// Size is the largest id + 1 (0 when empty).
func (v *Vocab) Size() int {
	if v.check() != nil {
		return 0
	}
	defer runtime.KeepAlive(v)
	return int(C.tks_vocab_size(v.v))
}

// Close releases the vocabulary; calling it again does nothing.
func (v *Vocab) Close() {
	if v == nil || v.v == nil {
		return
	}
	C.tks_vocab_free(v.v)
	v.v = nil
	runtime.SetFinalizer(v, nil)
}

// DetokOptions configures a Detok; the zero value (or nil) means the defaults.
type DetokOptions struct {
	SkipSpecial bool // drop special tokens (skip_special_tokens)
	SkipUnknown bool // drop ids the vocabulary lacks (default: ErrNotFound naming the id)
	Grapheme    bool // never end a delta inside an extended grapheme cluster
	MaxHold     int  // grapheme mode: longest cluster held back; 0 = 4 KiB
}

// Detok is a streaming detokenizer (tks_detok): token ids in, text that is always whole
// UTF-8 characters out. The text of all pushes and Finish together equals the decode of
// the whole sequence, however the ids are cut. Not safe for concurrent use.
type Detok struct {
	d     *C.tks_detok
	h     cgo.Handle
	s     *sink
	vocab *Vocab
}

// NewDetok makes a detokenizer over v (which must stay open while the Detok is used).
func NewDetok(v *Vocab, opts *DetokOptions) (*Detok, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	var cfg C.tks_detok_config
	if opts != nil {
		if opts.SkipSpecial {
			cfg.flags |= C.TKS_DETOK_SKIP_SPECIAL
		}
		if opts.SkipUnknown {
			cfg.flags |= C.TKS_DETOK_SKIP_UNKNOWN
		}
		if opts.Grapheme {
			cfg.flags |= C.TKS_DETOK_GRAPHEME
		}
		if opts.MaxHold < 0 {
			return nil, goError(StatusInvalid, "negative MaxHold")
		}
		cfg.max_hold = C.size_t(opts.MaxHold)
	}
	dt := &Detok{s: &sink{}, vocab: v}
	dt.h = cgo.NewHandle(dt.s)
	var d *C.tks_detok
	rc := C.tksgo_detok_new(&d, v.v, &cfg, C.uintptr_t(dt.h))
	runtime.KeepAlive(v)
	if rc != C.TKS_OK {
		dt.h.Delete()
		return nil, status(rc, nil, 0)
	}
	dt.d = d
	runtime.SetFinalizer(dt, (*Detok).Close)
	return dt, nil
}

func (dt *Detok) check() error {
	if dt == nil || dt.d == nil {
		return goError(StatusInvalid, "detok is closed")
	}
	return nil
}

func (dt *Detok) err(rc C.int) error {
	return status(rc, C.tks_detok_error(dt.d), C.tks_detok_offset(dt.d))
}

func idsPtr(ids []int32) *C.int32_t {
	if len(ids) == 0 {
		return nil
	}
	return (*C.int32_t)(unsafe.Pointer(&ids[0]))
}

// Push decodes ids and returns the text they completed (possibly ""). An unknown id is
// ErrNotFound with Offset = its index (counting primed and pushed ids since Reset); the
// text of the ids before it is returned with the error.
func (dt *Detok) Push(ids ...int32) (string, error) {
	if err := dt.check(); err != nil {
		return "", err
	}
	rc := C.tks_detok_push(dt.d, idsPtr(ids), C.size_t(len(ids)))
	runtime.KeepAlive(ids)
	err := dt.err(rc)
	runtime.KeepAlive(dt)
	return dt.s.takeText(), err
}

// Prime gives the prompt's trailing ids: they set the context (the first-token rules,
// a character left unfinished) but are never emitted. Only before the first Push.
func (dt *Detok) Prime(ids ...int32) error {
	if err := dt.check(); err != nil {
		return err
	}
	rc := C.tks_detok_prime(dt.d, idsPtr(ids), C.size_t(len(ids)))
	runtime.KeepAlive(ids)
	err := dt.err(rc)
	runtime.KeepAlive(dt)
	return err
}

// PrimeBytes is Prime with the prompt's trailing bytes instead of ids.
func (dt *Detok) PrimeBytes(b []byte) error {
	if err := dt.check(); err != nil {
		return err
	}
	rc := C.tks_detok_prime_bytes(dt.d, cbytes(b), C.size_t(len(b)))
	runtime.KeepAlive(b)
	err := dt.err(rc)
	runtime.KeepAlive(dt)
	return err
}

// Finish ends the sequence and returns the text that was held (an unfinished character
// becomes U+FFFD). A Push after it is ErrState until Reset.
func (dt *Detok) Finish() (string, error) {
	if err := dt.check(); err != nil {
		return "", err
	}
	rc := C.tks_detok_finish(dt.d)
	err := dt.err(rc)
	runtime.KeepAlive(dt)
	return dt.s.takeText(), err
}

// Reset starts a new sequence with the same vocabulary and options, clearing errors.
func (dt *Detok) Reset() {
	if dt.check() != nil {
		return
	}
	C.tks_detok_reset(dt.d)
	dt.s.text = dt.s.text[:0]
	runtime.KeepAlive(dt)
}

// Close releases the detokenizer (not its Vocab); calling it again does nothing.
func (dt *Detok) Close() {
	if dt == nil || dt.d == nil {
		return
	}
	C.tks_detok_free(dt.d)
	dt.d = nil
	dt.h.Delete()
	dt.vocab = nil
	runtime.SetFinalizer(dt, nil)
}
