package connect

import (
	"strings"
	"testing"

	"github.com/gofab/gofab/internal/transport/sshconfig"
)

func TestCheckGateways(t *testing.T) {
	gw := func(pairs ...string) map[string]sshconfig.Overrides {
		m := map[string]sshconfig.Overrides{}
		for i := 0; i < len(pairs); i += 2 {
			m[pairs[i]] = sshconfig.Overrides{ProxyJump: pairs[i+1]}
		}
		return m
	}
	cases := []struct {
		name  string
		hosts map[string]sshconfig.Overrides
		want  string
	}{
		{"none", gw("a", ""), ""},
		{"chain", gw("a", "b", "b", "user@c:2222"), ""},
		{"two share a gateway", gw("a", "g", "b", "g"), ""},
		{"own gateway", gw("a", "a"), "gateway loop: a -> a"},
		{"each other's", gw("a", "b", "b", "a"), "gateway loop: a -> b -> a"},
		{"in a list", gw("a", "x,deploy@b", "b", "c", "c", "b:22"), "gateway loop: b -> c -> b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckGateways(c.hosts)
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("CheckGateways = %v, want %q", err, c.want)
			}
		})
	}
}
