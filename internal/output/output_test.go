package output

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
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
