package output

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gofab/gofab/internal/base/event"
)

func TestLineWriter(t *testing.T) {
	var buf bytes.Buffer
	p := New(&buf, false)
	h := p.Host("web1")
	w := h.Stream("out")
	for _, chunk := range []string{"one\ntw", "o\r\n", "", "three"} {
		w.Write([]byte(chunk))
	}
	w.Close()
	want := "[web1] out: one\n[web1] out: two\n[web1] out: three\n"
	if buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
}

// TestLineWriterBoundsALine: a stream without newlines is printed in
// pieces of maxLine bytes, every byte of it, and never held whole.
func TestLineWriterBoundsALine(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, false).Host("h").Stream("")
	chunk := []byte(strings.Repeat("x", 1000))
	for i := 0; i < 1000; i++ { // 1 MB, no newline
		w.Write(chunk)
		if lw := w.(*LineWriter); len(lw.buf) > maxLine {
			t.Fatalf("holding %d bytes of one line", len(lw.buf))
		}
	}
	w.Close()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	total := 0
	for _, ln := range lines {
		text := strings.TrimPrefix(ln, "[h] ")
		if len(text) > maxLine+1000 {
			t.Errorf("a printed line of %d bytes", len(text))
		}
		total += len(text)
	}
	if total != 1000*1000 {
		t.Errorf("printed %d bytes of 1000000", total)
	}
}

// TestConcurrentHostsNeverShareALine writes from many goroutines in small
// chunks and checks every output line is one host's whole line.
func TestConcurrentHostsNeverShareALine(t *testing.T) {
	var buf bytes.Buffer
	p := New(&buf, true)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		h := p.Host(strings.Repeat(string(rune('a'+i)), 3))
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := h.Stream("out")
			line := []byte(strings.Repeat(h.Name, 50) + "\n")
			for j := 0; j < 200; j++ {
				for k := 0; k < len(line); k += 7 {
					w.Write(line[k:min(k+7, len(line))])
				}
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("%d lines, want %d", len(lines), 8*200)
	}
	ansi := regexp.MustCompile("\x1b\\[[0-9;]*m")
	for _, l := range lines {
		if !strings.HasPrefix(l, "\x1b[") {
			t.Fatalf("line %q is not coloured", l)
		}
		l = ansi.ReplaceAllString(l, "")
		i := strings.Index(l, "[")
		j := strings.Index(l, "]")
		name := l[i+1 : j]
		if !strings.HasSuffix(l, " out: "+strings.Repeat(name, 50)) {
			t.Fatalf("mixed line %q", l)
		}
	}
}

// TestStatusLine: lines are written above the status line, which is
// redrawn after them and removed at the end.
func TestStatusLine(t *testing.T) {
	var buf bytes.Buffer
	p := New(&buf, false)
	h := p.Host("web1")
	p.SetStatus("1/3 hosts done, 0 failed")
	h.Line("out", "hello")
	p.SetStatus("")
	want := "\r\x1b[K1/3 hosts done, 0 failed" + "\r\x1b[K[web1] out: hello\n1/3 hosts done, 0 failed" + "\r\x1b[K"
	if buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
}

// TestJSONEvents: every line and event is one JSON object with a type.
func TestJSONEvents(t *testing.T) {
	var buf bytes.Buffer
	p := NewWith(&buf, Options{JSON: true})
	h := p.Host("web1")
	h.Line("out", "a <b> & c\nsecond")
	zero := 0
	h.Event(event.CommandEnd{Kind: "run", Command: "x", ExitCode: &zero})
	p.Printf("not in JSON mode")
	p.SetStatus("never in JSON mode")
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		got = append(got, ev)
	}
	if len(got) != 3 || got[0]["text"] != "a <b> & c" || got[1]["text"] != "second" || got[2]["type"] != "command_end" || got[2]["host"] != "web1" || got[2]["exit_code"] != 0.0 {
		t.Fatalf("events %v", got)
	}
	if strings.Contains(buf.String(), `\u003c`) {
		t.Error("< was escaped")
	}
}

func TestNeutralize(t *testing.T) {
	cases := map[string]string{
		"plain text\twith tab":        "plain text\twith tab",
		"\x1b[31mred\x1b[0m":          "red",
		"\x1b]0;owned title\x07after": "after",
		"\x1b]2;title\x1b\\after":     "after",
		"move\x1b[2J\x1b[Hhome":       "movehome",
		"bell\x07 and \x08backspace":  "bell\uFFFD and \uFFFDbackspace",
		"carriage\rreturn":            "carriage\uFFFDreturn",
		"c1 \u009b31m csi":            "c1  csi",
		"unicode ✓ stays":             "unicode ✓ stays",
		"\x1bc reset":                 " reset",
		"unterminated \x1b[31":        "unterminated ",
	}
	for in, want := range cases {
		if got := Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFabfileColors: in colour, the fabfile's own lines keep their colour
// codes (reset at the end) and lose any other escape; command output and
// colourless printers keep none.
func TestFabfileColors(t *testing.T) {
	line := "\x1b[31mred\x1b[0m \x1b]0;title\x07x"
	cases := []struct {
		color bool
		kind  string
		want  string
	}{
		{true, "", "\x1b[31mred\x1b[0m x\x1b[0m"},
		{true, "out", "red x"},
		{false, "", "red x"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		New(&buf, c.color).Host("h").Line(c.kind, line)
		got := buf.String()
		got = got[strings.Index(got, "] ")+2 : len(got)-1]
		if c.kind != "" {
			got = strings.TrimPrefix(got, c.kind+": ")
			got = strings.TrimPrefix(got, "\x1b[0m")
		}
		if !strings.HasSuffix(got, c.want) {
			t.Errorf("color %v kind %q: %q, want %q", c.color, c.kind, got, c.want)
		}
	}
}
