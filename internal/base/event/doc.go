package event

import (
	"fmt"
	"io"
	"reflect"
)

// Doc writes docs/events.md: every event, its fields, their JSON types
// and what they hold.
func Doc(w io.Writer) {
	fmt.Fprint(w, `# Events

gofab's machine-readable events: `+"`--output json`"+` prints them, `+"`--events FILE`"+` records
them, `+"`--report`"+` and `+"`gofab report merge`"+` read them. Each is one line of JSON, an object
whose keys are in sorted order: the fields below, `+"`type`"+` (the event's name), `+"`time`"+`
(RFC 3339, UTC) and, for an event about one host, `+"`host`"+`. A field may be added in a
later version; none is removed or changes its type. Generated from `+"`internal/base/event`"+`
(`+"`go test ./internal/base/event -update`"+` rewrites this file; the test fails when they differ).
`)
	for _, e := range All {
		t := reflect.TypeOf(e.Event)
		fmt.Fprintf(w, "\n## `%s`\n\n", e.Event.Type())
		if e.PerHost {
			fmt.Fprintln(w, "About one host: has `host`.")
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, "| field | JSON type | |")
		fmt.Fprintln(w, "|---|---|---|")
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, omitEmpty := jsonName(f)
			doc := f.Tag.Get("doc")
			if omitEmpty {
				doc += " (absent when empty)"
			}
			fmt.Fprintf(w, "| `%s` | %s | %s |\n", name, jsonType(f.Type), doc)
		}
	}
}

// jsonType names the JSON type of values of t.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonType(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return "array of " + jsonType(t.Elem())
	case reflect.Map:
		return "object of " + jsonType(t.Elem())
	case reflect.Struct:
		return "object"
	}
	return t.String()
}
