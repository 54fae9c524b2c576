package files

import "testing"

func TestAppendLines(t *testing.T) {
	cases := []struct {
		name, content string
		add           []string
		partial       bool
		escape        bool
		want          string
		changed       bool
	}{
		{"new file", "", []string{"a"}, false, true, "a\n", true},
		{"present", "a\nb\n", []string{"b"}, false, true, "a\nb\n", false},
		{"no final newline", "a", []string{"b"}, false, true, "a\nb\n", true},
		{"substring is not a line", "abc\n", []string{"b"}, false, true, "abc\nb\n", true},
		{"partial prefix", "PermitRootLogin yes\n", []string{"PermitRootLogin"}, true, true, "PermitRootLogin yes\n", false},
		{"regex chars escaped", "a.c\n", []string{"a.c", "a+c"}, false, true, "a.c\na+c\n", true},
		{"regex when not escaped", "abc\n", []string{"a.c"}, false, false, "abc\n", false},
		{"list in order", "", []string{"x", "y", "x"}, false, true, "x\ny\n", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, changed, err := appendLines(c.content, c.add, c.partial, c.escape)
			if err != nil || got != c.want || changed != c.changed {
				t.Errorf("appendLines = %q, %v, %v; want %q, %v", got, changed, err, c.want, c.changed)
			}
		})
	}
}

func TestSed(t *testing.T) {
	cases := []struct {
		name, content, before, after, limit, flags, want string
	}{
		{"group", "port=80\n", `port=([0-9]+)`, `port=\1\1`, "", "", "port=8080\n"},
		{"ampersand", "x\n", `x`, `[&]`, "", "", "[x]\n"},
		{"every match", "a a a\n", `a`, `b`, "", "", "b b b\n"},
		{"limit", "a=1\nb=1\n", `1`, `2`, `^b`, "", "a=1\nb=2\n"},
		{"ignore case", "Hello\n", `hello`, `bye`, "", "i", "bye\n"},
		{"dollar literal", "x\n", `x`, `$HOME`, "", "", "$HOME\n"},
		{"keeps missing final newline", "a", `a`, `b`, "", "", "b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := sed(c.content, c.before, c.after, c.limit, c.flags)
			if err != nil || got != c.want {
				t.Errorf("sed = %q, %v; want %q", got, err, c.want)
			}
		})
	}
	if _, err := sed("x", "(", "", "", ""); err == nil {
		t.Error("a bad regular expression was accepted")
	}
}

func TestCommentUncomment(t *testing.T) {
	in := "PasswordAuthentication yes\n  UsePAM yes\n#Port 22\n"
	got, err := comment(in, "^PasswordAuthentication", "#")
	if want := "#PasswordAuthentication yes\n  UsePAM yes\n#Port 22\n"; err != nil || got != want {
		t.Errorf("comment = %q, want %q", got, want)
	}
	again, _ := comment(got, "PasswordAuthentication", "#")
	if again != got {
		t.Errorf("comment twice = %q", again)
	}
	got, err = uncomment("#Port 22\n  # UsePAM yes\n#Other\n", "^(Port|UsePAM)", "#")
	if want := "Port 22\n  UsePAM yes\n#Other\n"; err != nil || got != want {
		t.Errorf("uncomment = %q, want %q", got, want)
	}
	got, _ = uncomment("; extension=gd\n", "extension", ";")
	if got != "extension=gd\n" {
		t.Errorf("uncomment with ; = %q", got)
	}
}
