package main

import (
	"bytes"
	"testing"

	"github.com/gofab/gofab/internal/data/inventory"
)

// TestWriteHostTable: columns two spaces apart, widths counted in
// characters, no trailing blanks when a host has no connection column.
func TestWriteHostTable(t *testing.T) {
	tests := []struct {
		name  string
		hosts []*inventory.Resolved
		want  string
	}{
		{"none", nil, ""},
		{"aligned", []*inventory.Resolved{
			{Name: "web1", Groups: []string{"web", "eu"}, Address: "10.0.0.1"},
			{Name: "dbé", Groups: []string{"db"}},
			{Name: "a", User: "ops", Port: 2222},
		}, "web1  web,eu  10.0.0.1\n" +
			"dbé   db\n" +
			"a             ops@a:2222\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			writeHostTable(&b, tt.hosts)
			if b.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tt.want)
			}
		})
	}
}
