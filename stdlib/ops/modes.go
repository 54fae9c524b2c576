package ops

import (
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/gofab/gofab/internal/transfer"
	"github.com/gofab/gofab/luart"
)

// WriteMode returns the check and diff settings a file write honours in
// this run (--check, --diff).
func WriteMode(st *luart.State, o transfer.WriteOptions) transfer.WriteOptions {
	check, diff, _ := st.Mode()
	o.Check = o.Check || check
	if diff {
		o.Diff = func(path string, old, new []byte, oldAttrs, newAttrs string) {
			ShowDiff(st, path, old, new, oldAttrs, newAttrs)
		}
	}
	return o
}

// ShowDiff prints a unified diff of a file's change, with its mode and
// owner when they change, as "[host] diff: ..." lines.
func ShowDiff(st *luart.State, path string, old, new []byte, oldAttrs, newAttrs string) {
	var b strings.Builder
	if oldAttrs != newAttrs && newAttrs != "" {
		b.WriteString("attributes of " + path + ": " + orNone(oldAttrs) + " -> " + newAttrs + "\n")
	}
	if string(old) != string(new) {
		text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(old)), B: difflib.SplitLines(string(new)),
			FromFile: path, ToFile: path, Context: 3,
		})
		b.WriteString(text)
	}
	if b.Len() > 0 {
		st.Out().Line("diff", strings.TrimRight(b.String(), "\n"))
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
