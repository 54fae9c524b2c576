package hostio

import "testing"

func TestRender(t *testing.T) {
	data := map[string]any{"name": "web", "ports": []any{80, 443}}
	got, err := Render("t", `{{ .name | upper }} {{ join "," .ports }} {{ default "none" (index . "missing") }} {{ quote "a b" }}`, data)
	if want := "WEB 80,443 none 'a b'"; err != nil || got != want {
		t.Errorf("render = %q, %v; want %q", got, err, want)
	}
	if _, err := Render("t", "{{ .nope }}", data); err == nil {
		t.Error("a missing key rendered without error")
	}
}
