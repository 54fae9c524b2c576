package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestVarsDirs: group_vars/ and host_vars/ files and directories are read
// as Ansible reads them, later files in a directory winning, and a broken
// file counts only when the inventory names it.
func TestVarsDirs(t *testing.T) {
	files := map[string]string{
		"group_vars/all.yml":         "a: 1\n",
		"group_vars/web/10.yml":      "b: first\nc: kept\n",
		"group_vars/web/20.yaml":     "b: second\n",
		"group_vars/web/.hidden.yml": "b: hidden\n",
		"group_vars/db.json":         `{"d": [1, 2]}`,
		"group_vars/unused.yml":      "{{ not yaml\n",
		"group_vars/web.yml/x.yml":   "e: a directory named .yml is not read\n",
		"host_vars/web1":             "h: yes\n",
		"host_vars/gone.example.yml": ": broken\n",
	}
	tests := []struct {
		name, ini string
		want      map[string]map[string]any // host → some of its vars
		err       string
	}{
		{name: "layout", ini: "[web]\nweb1\n[db]\ndb1\n",
			want: map[string]map[string]any{
				"web1": {"a": int64(1), "b": "second", "c": "kept", "h": true},
				"db1":  {"a": int64(1), "d": []any{int64(1), int64(2)}},
			}},
		{name: "broken file of a named group", ini: "[unused]\nu1\n", err: "unused.yml"},
		{name: "broken file of a named host", ini: "gone.example\n", err: "gone.example.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			inv, err := ParseINI("hosts", []byte(tt.ini))
			if err != nil {
				t.Fatal(err)
			}
			err = LoadVarsDirs(inv, dir)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := inv.Finish(); err != nil {
				t.Fatal(err)
			}
			for h, want := range tt.want {
				r, ok := inv.Lookup(h)
				if !ok {
					t.Fatalf("%s missing", h)
				}
				for k, v := range want {
					if !reflect.DeepEqual(r.Vars[k], v) {
						t.Errorf("%s: %s = %#v, want %#v", h, k, r.Vars[k], v)
					}
				}
				if _, ok := r.Vars["e"]; ok {
					t.Errorf("%s: read a directory named web.yml", h)
				}
			}
		})
	}
}
