package hostio

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/gofab/gofab/internal/base/host"
)

// templateFuncs are the functions templates may call besides Go's own.
var templateFuncs = template.FuncMap{
	"join":  func(sep string, items []any) string { return joinAny(items, sep) },
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"quote": host.Quote,
	"default": func(def, v any) any {
		if v == nil || v == "" {
			return def
		}
		return v
	},
}

func joinAny(items []any, sep string) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = fmt.Sprint(it)
	}
	return strings.Join(parts, sep)
}

// Render executes a Go text/template (with join, upper, lower, quote and
// default) over data; a missing key is an error.
func Render(name, text string, data any) (string, error) {
	t, err := template.New(name).Funcs(templateFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}
