package tokstream_test

import (
	"fmt"
	"os"
	"path/filepath"

	"tokstream.dev/tokstream"
)

// A client fed a streamed response body as it arrives: render each text delta at once,
// read the assembled message at the end.
func ExampleClient() {
	body, err := os.ReadFile(filepath.Join("..", "..", "test", "data", "client", "openai-chat.sse"))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := tokstream.NewClient(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for len(body) > 0 { // as if read from the network, 100 bytes at a time
		n := min(100, len(body))
		deltas, err := c.Push(body[:n])
		body = body[n:]
		for _, d := range deltas {
			if d.Kind == tokstream.DeltaText {
				_ = d.Text // render it now
			}
		}
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	if _, err := c.Finish(); err != nil {
		fmt.Println("incomplete:", err)
	}
	m, err := c.Message()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Framing(), c.Dialect(), *m.Model, *m.Choices[0].FinishReason)
	fmt.Println(*m.Choices[0].Content)
	// Output:
	// sse openai-chat gpt-4o-mini-2024-07-18 stop
	// Streaming keeps users engaged: the first words appear in milliseconds — café 😀.
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// Token ids to text with a tokenizer.json vocabulary: each push gives the text that is
// whole characters so far.
func ExampleDetok() {
	js, err := os.ReadFile(filepath.Join("..", "..", "test", "data", "vocab", "bytelevel.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := tokstream.LoadVocabHF(js)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	d, err := tokstream.NewDetok(v, &tokstream.DetokOptions{SkipSpecial: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	for _, id := range []int32{0, 9, 14, 10} {
		text, err := d.Push(id)
		fmt.Printf("%d -> %q %v\n", id, text, err)
	}
	text, err := d.Finish()
	fmt.Printf("end -> %q %v\n", text, err)
	// Output:
	// 0 -> "Hello" <nil>
	// 9 -> " " <nil>
	// 14 -> "👋!" <nil>
	// 10 -> "" <nil>
	// end -> "" <nil>
}
