package host

import (
	"math"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Addr
		str  string
		err  bool
	}{
		{in: "web1", want: Addr{Host: "web1"}, str: "web1"},
		{in: "deploy@web2:2222", want: Addr{User: "deploy", Host: "web2", Port: 2222}, str: "deploy@web2:2222"},
		{in: "[::1]:22", want: Addr{Host: "::1", Port: 22}, str: "[::1]:22"},
		{in: "me@[fe80::1]", want: Addr{User: "me", Host: "fe80::1"}, str: "me@fe80::1"},
		{in: "::1", want: Addr{Host: "::1"}, str: "::1"},
		{in: "a@b@host", want: Addr{User: "a@b", Host: "host"}, str: "a@b@host"},
		{in: "local", want: Addr{Host: "local"}, str: "local"},
		{in: "", err: true},
		{in: "@host", err: true},
		{in: "user@", err: true},
		{in: "host:0", err: true},
		{in: "host:99999", err: true},
		{in: "host:ssh", err: true},
		{in: "[::1", err: true},
		{in: "[::1]x", err: true},
		{in: "a:b:c", err: true},
		{in: "two words", err: true},
		{in: "host;rm", err: true},
		{in: "ho'st", err: true},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if c.err {
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			continue
		}
		if s := got.String(); s != c.str {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, s, c.str)
		}
	}
}

func TestSeconds(t *testing.T) {
	cases := []struct {
		in      float64
		want    time.Duration
		wantErr bool
	}{
		{0, 0, false},
		{1.5, 1500 * time.Millisecond, false},
		{1e-300, time.Nanosecond, false},
		{1e300, math.MaxInt64, false},
		{-1, 0, true},
		{math.NaN(), 0, true},
		{math.Inf(1), 0, true},
		{math.Inf(-1), 0, true},
	}
	for _, c := range cases {
		got, err := Seconds(c.in)
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("Seconds(%v) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.wantErr)
		}
	}
}
