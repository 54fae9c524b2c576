package executor

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestBatchSizes(t *testing.T) {
	cases := []struct {
		batches []string
		total   int
		want    []int
	}{
		{nil, 5, []int{5}},
		{[]string{"2"}, 5, []int{2, 2, 1}},
		{[]string{"1", "50%"}, 5, []int{1, 3, 1}},
		{[]string{"1", "10%", "100%"}, 20, []int{1, 2, 17}},
		{[]string{"25%"}, 3, []int{1, 1, 1}},
		{[]string{"0"}, 2, []int{1, 1}},
	}
	for _, c := range cases {
		if got := (policy{batches: c.batches}).batchSizes(c.total); !slices.Equal(got, c.want) {
			t.Errorf("batches %v of %d = %v, want %v", c.batches, c.total, got, c.want)
		}
	}
}

func TestTolerated(t *testing.T) {
	cases := map[string]int{"": -1, "0": 0, "3": 3, "10%": 2, "25%": 5, "99%": 19}
	for spec, want := range cases {
		if got := (policy{maxFail: spec}).tolerated(20); got != want {
			t.Errorf("max_fail %q of 20 = %d, want %d", spec, got, want)
		}
	}
}

// TestBarrierReleasesWhenMembersLeave: a host that ends without reaching
// the barrier does not keep the others waiting.
func TestBarrierReleasesWhenMembersLeave(t *testing.T) {
	b := newBarrier(3)
	done := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() { done <- b.wait(context.Background()) }()
	}
	select {
	case <-done:
		t.Fatal("the barrier opened with one member missing")
	case <-time.After(50 * time.Millisecond):
	}
	b.leave()
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b2 := newBarrier(2)
	if err := b2.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("wait on a cancelled context = %v", err)
	}
}

func TestSharedStore(t *testing.T) {
	s := newStore()
	got := make(chan any, 1)
	go func() {
		v, _, _ := s.lookup(context.Background(), "k", true)
		got <- v
	}()
	s.publish("k", "v1")
	if v := <-got; v != "v1" {
		t.Errorf("wait got %v", v)
	}
	s.publish("k", "v2")
	if v, ok, _ := s.lookup(context.Background(), "k", false); !ok || v != "v2" {
		t.Errorf("get = %v %v", v, ok)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, _, err := s.lookup(ctx, "missing", true); err == nil {
		t.Error("waiting for a value nobody publishes did not time out")
	}
}
