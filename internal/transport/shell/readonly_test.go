package shell

import "testing"

// TestReadOnly: the commands --check runs as probes, and the tricky ones
// it must not.
func TestReadOnly(t *testing.T) {
	cases := map[string]bool{
		// Probes a versioned deploy makes.
		"ls -1t versions":                            true,
		"readlink current":                           true,
		"test -e x":                                  true,
		"[ -d /srv/app/releases ]":                   true,
		"git rev-parse HEAD":                         true,
		"git -C /srv/app log -1 --format=%H":         true,
		"cat f | wc -l":                              true,
		"test -e x && echo yes || echo no":           true,
		"ls /srv 2>/dev/null | sort | head -5":       true,
		"grep -c ^ok log 2>&1":                       true,
		"cat $(readlink current)/VERSION":            true,
		"wc -l < /etc/passwd":                        true,
		"systemctl is-active --quiet nginx":          true,
		"dpkg-query -W nginx":                        true,
		"command -v nginx":                           true,
		"find /srv -name '*.tmp' -mtime +7":          true,
		"if test -e x; then echo a; else echo b; fi": true,
		"LANG=C ls":                                  true,
		// Writes, or may.
		"ls > f":                      false,
		"ls >> f":                     false,
		"cat $(touch x)":              false,
		"echo `rm -rf x`":             false,
		"cat f | tee out":             false,
		"sed -i s/a/b/ f":             false,
		"find /srv -name x -delete":   false,
		"find . -exec rm {} ;":        false,
		"git pull":                    false,
		"git branch new-branch":       false,
		"git config user.name x":      false,
		"sort -o out in":              false,
		"uniq in out":                 false,
		"touch x":                     false,
		"rm -rf /srv/app":             false,
		"ls; rm x":                    false,
		"sudo ls":                     false,
		"env rm x":                    false,
		"command rm x":                false,
		"echo $((x=1))":               false,
		"echo ${x:=y}":                false,
		"x=1":                         false,
		"ls &":                        false,
		"f() { rm x; }; f":            false,
		"for f in *; do cat $f; done": false,
		"systemctl restart nginx":     false,
		"hostname newname":            false,
		"date -s 2020-01-01":          false,
		"tail -f /var/log/syslog":     false,
		"unterminated 'quote":         false,
		"":                            false,
		"awk '{print > \"out\"}' f":   false,
		"cat <(rm x)":                 false,
		"$CMD":                        false,
	}
	for line, want := range cases {
		if got := ReadOnly(line); got != want {
			t.Errorf("ReadOnly(%q) = %v, want %v", line, got, want)
		}
	}
}
