package executor

import (
	"fmt"

	"hash/fnv"
	"strconv"
	"strings"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/luart"
)

// Shard is one of Count independent parts of a run (--shard i/N): the
// hosts whose rendezvous hash picks Index. Every host lands in exactly
// one shard whatever the inventory's order, and going from N to N+1
// shards moves only the hosts the new shard wins (about 1/(N+1)). The
// zero Shard is an unsharded run.
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/N" (0 ≤ i < N), or "auto/N", whose index is
// JOB_COMPLETION_INDEX (a Kubernetes Indexed Job's) read with getenv.
func ParseShard(s string, getenv func(string) string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("--shard %q: give i/N (0 ≤ i < N) or auto/N", s)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 || count > 1<<16 {
		return Shard{}, fmt.Errorf("--shard %q: N must be a number of shards from 1 to 65536", s)
	}
	if i == "auto" {
		i = getenv("JOB_COMPLETION_INDEX")
		if i == "" {
			return Shard{}, fmt.Errorf("--shard auto/%d: JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job sets it)", count)
		}
	}
	index, err := strconv.Atoi(i)
	if err != nil || index < 0 || index >= count {
		return Shard{}, fmt.Errorf("--shard %q: the index must be from 0 to %d", s, count-1)
	}
	return Shard{Index: index, Count: count}, nil
}

// On reports whether the run is sharded.
func (s Shard) On() bool { return s.Count > 0 }

// String is "i/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Owns reports whether host belongs to this shard (every host does when
// the run is not sharded).
func (s Shard) Owns(host string) bool { return !s.On() || Owner(host, s.Count) == s.Index }

// Owner is the shard of n that host belongs to: the one with the highest
// hash of (host, shard) — rendezvous hashing.
func Owner(host string, n int) int {
	best, bestScore := 0, uint64(0)
	for i := 0; i < n; i++ {
		h := fnv.New64a()
		h.Write([]byte(host))
		h.Write([]byte{0, byte(i), byte(i >> 8)})
		if score := mix(h.Sum64()); i == 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// mix finishes a hash so that nearby inputs spread (splitmix64's
// finalizer): FNV alone ranks shards of similar names alike.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// shardOf keeps the targets of this shard (all of them when the run is
// not sharded). For a top-level run it says, as a "shard" event, the
// whole selection (so merged results know the hosts of a shard that
// never reported) and warns once of a runs_once task, which runs once
// per shard. A task without hosts runs in shard 0; a task with a shard
// option runs on all its hosts in that shard (runTask skipped it in the
// others).
func (e *Executor) shardOf(t *luart.Task, targets []target, topLevel bool) []target {
	if !e.Shard.On() || t != nil && t.Shard != nil {
		return targets
	}
	name := ""
	if t != nil {
		name = t.Name
	}
	if topLevel {
		all := make([]string, len(targets))
		for i, tg := range targets {
			all[i] = tg.name()
		}
		e.Printer.Event(event.Shard{Task: name, Shard: e.Shard.String(), Selected: all})
		if t != nil && t.RunsOnce && t.Shard == nil {
			e.Printer.Printf("warning: %s: runs_once runs once per shard (%d times in all) under --shard; give the task {shard = 0} to run it in shard 0 only", name, e.Shard.Count)
		}
	}
	var mine []target
	for _, tg := range targets {
		if tg.host == "" && e.Shard.Index == 0 || tg.host != "" && e.Shard.Owns(tg.host) {
			mine = append(mine, tg)
		}
	}
	return mine
}
