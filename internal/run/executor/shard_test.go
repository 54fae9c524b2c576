package executor

import (
	"fmt"
	"testing"
)

// TestParseShard: i/N, auto/N from JOB_COMPLETION_INDEX, and bad input.
func TestParseShard(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "JOB_COMPLETION_INDEX" {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		in, index string
		want      Shard
		err       bool
	}{
		{in: "0/4", want: Shard{0, 4}},
		{in: "3/4", want: Shard{3, 4}},
		{in: "auto/8", index: "5", want: Shard{5, 8}},
		{in: "auto/8", err: true},
		{in: "auto/8", index: "8", err: true},
		{in: "4/4", err: true},
		{in: "-1/4", err: true},
		{in: "1/0", err: true},
		{in: "1", err: true},
		{in: "a/b", err: true},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in, env(tt.index))
		if (err != nil) != tt.err || err == nil && got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// TestOwnerSpreadsAndIsStable: 10,000 hosts spread evenly over 8 shards
// (each within 10% of its share); going to 9 shards moves only hosts to
// the new shard, about a ninth of them.
func TestOwnerSpreadsAndIsStable(t *testing.T) {
	const n = 10000
	count := make([]int, 8)
	moved := 0
	for i := 0; i < n; i++ {
		h := fmt.Sprintf("web%d.example.com", i)
		o := Owner(h, 8)
		count[o]++
		if o2 := Owner(h, 9); o2 != o {
			moved++
			if o2 != 8 {
				t.Fatalf("%s moved from shard %d to %d, not to the new shard", h, o, o2)
			}
		}
	}
	for i, c := range count {
		if c < n/8*9/10 || c > n/8*11/10 {
			t.Errorf("shard %d has %d hosts of %d", i, c, n)
		}
	}
	if moved < n/9*8/10 || moved > n/9*12/10 {
		t.Errorf("%d hosts moved to the ninth shard, want about %d", moved, n/9)
	}
	if !(Shard{}).Owns("anything") {
		t.Errorf("an unsharded run does not own every host")
	}
}
