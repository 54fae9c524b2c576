package transfer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"github.com/gofab/gofab/internal/base/host"
)

// privateDir creates a directory only the login user can read under base
// (default /tmp) for files that sudo then moves into place.
func (h *Host) privateDir(base string) (string, error) {
	if base == "" {
		base = "/tmp"
	}
	base, err := h.FS.Abs(base)
	if err != nil {
		return "", err
	}
	var b [8]byte
	rand.Read(b[:])
	p := path.Join(base, "gofab-"+hex.EncodeToString(b[:]))
	if err := h.FS.Mkdir(p, 0o700); err != nil {
		return "", fmt.Errorf("create private temp directory in %s: %w", base, err)
	}
	return p, nil
}

// removeTree removes what is left of a private directory; the sudo script
// normally removes it itself.
func (h *Host) removeTree(p string) {
	entries, err := h.FS.ReadDir(p)
	if err != nil {
		return
	}
	for _, e := range entries {
		h.removeRemote(path.Join(p, e.Name()))
	}
	h.FS.Remove(p)
}

// putSudo uploads the plan's files into a private directory, then moves
// everything into place with one sudo script: each file is copied to a
// temporary name in its destination directory, given its mode and owner,
// and renamed over the destination. The script first removes the paths
// in replace (what stands where a directory must go) and, at its end,
// deletes those in gone (recursively).
func (h *Host) putSudo(ctx context.Context, plan []item, o PutOptions, replace, gone []string) ([]string, error) {
	priv, err := h.privateDir(o.TempDir)
	if err != nil {
		return nil, err
	}
	defer h.removeTree(priv)
	var staged []item
	s := newScript(priv)
	for _, p := range replace {
		s.linef("rm -f -- %s", host.Quote(p))
	}
	var written []string
	for _, it := range plan {
		switch it.kind {
		case dir:
			s.linef("[ -d %s ] || { mkdir -p -- %[1]s && chmod %o %[1]s; }", host.Quote(it.dst), dirMode(it, o))
		case file:
			src := path.Join(priv, fmt.Sprint(len(staged)))
			staged = append(staged, item{kind: file, src: it.src, data: it.data, dst: src, mode: 0o600})
			tmp := s.temp(it.dst)
			s.linef("cp -- %s %s", host.Quote(src), tmp)
			if o.Mode != 0 || o.MirrorLocalMode {
				s.linef("chmod %o %s", fileMode(it, o, nil), tmp)
			} else {
				s.linef("if [ -f %s ]; then chmod --reference=%[1]s %s && chown --reference=%[1]s %[2]s; else chmod %o %[2]s; fi",
					host.Quote(it.dst), tmp, fileMode(it, o, nil))
			}
			s.place(tmp, it.dst, o.Owner, o.Group)
			written = append(written, it.dst)
		case link:
			tmp := s.temp(it.dst)
			s.linef("ln -s -- %s %s", host.Quote(it.link), tmp)
			s.place(tmp, it.dst, o.Owner, o.Group)
			written = append(written, it.dst)
		}
	}
	for _, p := range gone {
		s.linef("rm -rf -- %s", host.Quote(p))
	}
	if err := h.uploadAll(ctx, staged, nil); err != nil {
		return nil, err
	}
	if err := h.runScript(ctx, priv, s); err != nil {
		return nil, err
	}
	return written, nil
}

// runScript writes the script into the private directory and runs it with
// sudo; the script removes the directory when it ends.
func (h *Host) runScript(ctx context.Context, priv string, s *script) error {
	p := path.Join(priv, "gofab.sh")
	if err := h.writeBytes(ctx, p, []byte(s.String()), 0o600); err != nil {
		return err
	}
	if _, err := h.Exec(ctx, "sh "+host.Quote(p), true, nil); err != nil {
		return fmt.Errorf("sudo: %w", err)
	}
	return nil
}

// script is a shell script run with sudo. It stops at the first failure
// and, however it ends, removes the private directory and every temporary
// file it may have created.
type script struct {
	priv  string
	temps []string
	body  strings.Builder
}

func newScript(priv string) *script { return &script{priv: priv} }

func (s *script) linef(format string, args ...any) {
	fmt.Fprintf(&s.body, format, args...)
	s.body.WriteByte('\n')
}

// temp returns a quoted temporary name next to dst, removed on exit.
func (s *script) temp(dst string) string {
	dir, base := path.Split(dst)
	t := host.Quote(path.Join(dir, tempName(base)))
	s.temps = append(s.temps, t)
	return t
}

// place gives tmp its owner and renames it over dst.
func (s *script) place(tmp, dst, owner, group string) {
	if owner != "" || group != "" {
		spec := owner
		if group != "" {
			spec += ":" + group
		}
		s.linef("chown -h -- %s %s", host.Quote(spec), tmp)
	}
	s.linef("mv -Tf -- %s %s", tmp, host.Quote(dst))
}

func (s *script) String() string {
	cleanup := "rm -rf -- " + host.Quote(s.priv)
	if len(s.temps) > 0 {
		cleanup += "; rm -f -- " + strings.Join(s.temps, " ")
	}
	return "set -e\ntrap " + host.Quote(cleanup) + " EXIT\ntrap 'exit 130' INT TERM HUP\n" + s.body.String()
}
