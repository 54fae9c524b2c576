package connect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/sshconfig"
)

// CheckGateways refuses an inventory whose gateways form a loop (a host
// that is its own gateway, or two that are each other's), naming it, so
// the run stops before anything connects.
func CheckGateways(hosts map[string]sshconfig.Overrides) error {
	names := make([]string, 0, len(hosts))
	for n := range hosts {
		names = append(names, n)
	}
	slices.Sort(names)
	done := map[string]bool{}
	var visit func(path []string) error
	visit = func(path []string) error {
		h := path[len(path)-1]
		if done[h] {
			return nil
		}
		for _, hop := range gatewayHops(hosts[h].ProxyJump) {
			if i := slices.Index(path, hop); i >= 0 {
				return fmt.Errorf("gateway loop: %s -> %s", strings.Join(path[i:], " -> "), hop)
			}
			if err := visit(append(slices.Clip(path), hop)); err != nil {
				return err
			}
		}
		done[h] = true
		return nil
	}
	for _, n := range names {
		if err := visit([]string{n}); err != nil {
			return err
		}
	}
	return nil
}

// gatewayHops returns the host names of a ProxyJump list.
func gatewayHops(spec string) []string {
	var out []string
	for _, hop := range strings.Split(spec, ",") {
		if hop = strings.TrimSpace(hop); hop == "" || hop == "none" {
			continue
		}
		if a, err := host.Parse(strings.TrimPrefix(hop, "ssh://")); err == nil {
			out = append(out, a.Host)
		}
	}
	return out
}
