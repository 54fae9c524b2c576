package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/gofab/gofab/internal/base/host"
)

// SyncOptions are sync()'s options.
type SyncOptions struct {
	// Delete removes remote files, links and directories missing locally.
	Delete bool
	// Exclude lists glob patterns matched against each relative path and
	// each file name; excluded entries are neither sent nor deleted.
	Exclude []string
	// Check reports what would change and changes nothing.
	Check bool
	// UseSudo makes the changes as root (a docroot owned by root): the
	// files are staged in a private directory and put in place, links
	// made and entries deleted by one sudo script.
	UseSudo bool
	// TempDir is where UseSudo stages files (default /tmp).
	TempDir string
}

// SyncResult is what sync() changed.
type SyncResult struct {
	// Changed counts files and links written and modes changed.
	Changed int
	// Deleted counts entries removed.
	Deleted int
	// Files are the relative paths changed, sorted; Removed those deleted.
	Files, Removed []string
}

// excluded reports whether rel matches one of the patterns, as a whole path
// or by its last element.
func excluded(patterns []string, rel string) bool {
	for _, p := range patterns {
		p = strings.TrimSuffix(p, "/")
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
		if ok, _ := path.Match(p, path.Base(rel)); ok {
			return true
		}
	}
	return false
}

// Sync makes the remote directory hold the local tree: files whose size and
// sha256 already match are skipped (remote hashes come from one command),
// others are uploaded atomically with their local mode.
func (h *Host) Sync(ctx context.Context, localDir, remoteDir string, o SyncOptions) (SyncResult, error) {
	s := &syncer{h: h, o: o, localDir: localDir}
	if err := s.list(remoteDir); err != nil {
		return s.res, err
	}
	if err := s.apply(ctx); err != nil {
		return s.res, err
	}
	if o.Delete {
		if err := s.deleteExtra(); err != nil {
			return s.res, err
		}
	}
	if len(s.sudo.plan)+len(s.sudo.replace)+len(s.sudo.gone) > 0 {
		po := PutOptions{MirrorLocalMode: true, UseSudo: true, TempDir: o.TempDir}
		if _, err := h.putSudo(ctx, s.sudo.plan, po, s.sudo.replace, s.sudo.gone); err != nil {
			return s.res, fmt.Errorf("sync: %w", err)
		}
	}
	sort.Strings(s.res.Files)
	s.res.Changed, s.res.Deleted = len(s.res.Files), len(s.res.Removed)
	return s.res, nil
}

// syncer is one Sync in progress.
type syncer struct {
	h        *Host
	o        SyncOptions
	localDir string
	rd       string // the remote directory, absolute
	local    []item
	have     map[string]item // remote entries not matched (yet)
	res      SyncResult
	// With sudo, changes become one script: the plan of what to write,
	// the entries to remove first and those to delete at the end.
	sudo struct {
		plan          []item
		replace, gone []string
	}
}

// list walks the local tree and the remote directory (making it when
// it is missing).
func (s *syncer) list(remoteDir string) error {
	h := s.h
	if !isDir(h.local(), s.localDir) {
		return fmt.Errorf("sync: local %s is not a directory", s.localDir)
	}
	rd, err := h.FS.Abs(remoteDir)
	if err != nil {
		return err
	}
	s.rd = rd
	// Another host's write in progress (a shared file system) is passed
	// by, its staging directory too: it may be gone by the time it is read.
	skip := func(rel string, _ bool) bool { return isTemp(path.Base(rel)) || excluded(s.o.Exclude, rel) }
	if s.local, err = walk(h.local(), s.localDir, rd, false, skip); err != nil {
		return fmt.Errorf("sync: read %s: %w", s.localDir, err)
	}
	var remoteItems []item
	switch {
	case isDir(h.FS, rd):
		if remoteItems, err = walk(h.FS, rd, rd, false, skip); err != nil {
			return fmt.Errorf("sync: list remote %s: %w", rd, err)
		}
	case s.o.UseSudo:
		s.sudo.plan = append(s.sudo.plan, item{kind: dir, dst: rd, mode: 0o755})
	case !s.o.Check:
		if err := mkdirAll(h.FS, rd, 0o755); err != nil {
			return err
		}
	}
	s.have = make(map[string]item, len(remoteItems))
	for _, it := range remoteItems {
		if it.rel != "" && !isTemp(path.Base(it.rel)) {
			s.have[it.rel] = it
		}
	}
	return nil
}

// act runs a change unless this is a check; with sudo, plan notes it for
// the script instead.
func (s *syncer) act(change func() error, plan func()) error {
	switch {
	case s.o.Check:
		return nil
	case s.o.UseSudo:
		plan()
		return nil
	}
	return change()
}

// apply makes each local entry's remote counterpart match it.
func (s *syncer) apply(ctx context.Context) error {
	h := s.h
	// Files of equal size are compared by hash, remote ones in one command.
	var same []string
	for _, it := range s.local {
		if r, ok := s.have[it.rel]; ok && it.kind == file && r.kind == file && r.size == it.size {
			same = append(same, it.rel)
		}
	}
	remoteSums, err := h.remoteSums(ctx, s.rd, same, s.o.UseSudo)
	if err != nil {
		return err
	}
	localSums, err := localSums(ctx, h.local(), s.localDir, same)
	if err != nil {
		return err
	}
	var uploads []item
	for _, it := range s.local {
		if it.rel == "" {
			continue
		}
		r, exists := s.have[it.rel]
		delete(s.have, it.rel)
		switch it.kind {
		case dir:
			err = s.dir(it, r, exists)
		case link:
			if exists && r.kind == link && r.link == it.link {
				continue
			}
			err = s.act(func() error { return replaceLink(h.FS, it.link, it.dst) }, func() { s.sudo.plan = append(s.sudo.plan, it) })
			s.res.Files = append(s.res.Files, it.rel)
		case file:
			sumOK := exists && r.kind == file && remoteSums[it.rel] != "" && remoteSums[it.rel] == localSums[it.rel]
			switch {
			case sumOK && r.mode == it.mode:
				continue
			case sumOK:
				if err = s.act(func() error { return h.FS.Chmod(it.dst, it.mode) }, func() { s.sudo.plan = append(s.sudo.plan, it) }); err != nil {
					err = fmt.Errorf("sync: chmod %s: %w", it.dst, err)
				}
			default:
				uploads = append(uploads, it)
			}
			s.res.Files = append(s.res.Files, it.rel)
		}
		if err != nil {
			return err
		}
	}
	return s.act(func() error { return h.uploadAll(ctx, uploads, nil) }, func() { s.sudo.plan = append(s.sudo.plan, uploads...) })
}

// dir makes the remote directory of it, replacing what else stands there.
func (s *syncer) dir(it, r item, exists bool) error {
	h := s.h
	if exists && r.kind != dir {
		if err := s.act(func() error { return h.FS.Remove(it.dst) }, func() { s.sudo.replace = append(s.sudo.replace, it.dst) }); err != nil {
			return fmt.Errorf("sync: replace %s with a directory: %w", it.dst, err)
		}
		exists = false
	}
	if exists {
		return nil
	}
	// Another host sharing the file system may make it first.
	d := it
	d.mode = 0o755 // as without sudo
	err := s.act(func() error { return h.FS.Mkdir(it.dst, 0o755) }, func() { s.sudo.plan = append(s.sudo.plan, d) })
	if err != nil && !isDir(h.FS, it.dst) {
		return fmt.Errorf("sync: mkdir %s: %w", it.dst, err)
	}
	return nil
}

// deleteExtra removes the remote entries the local tree lacks, deepest
// first, so directories are empty when their turn comes.
func (s *syncer) deleteExtra() error {
	var gone []string
	for rel := range s.have {
		gone = append(gone, rel)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(gone)))
	for _, rel := range gone {
		p := path.Join(s.rd, rel)
		if err := s.act(func() error { return s.h.FS.Remove(p) }, func() { s.sudo.gone = append(s.sudo.gone, p) }); err != nil {
			return fmt.Errorf("sync: delete %s: %w", p, err)
		}
		s.res.Removed = append(s.res.Removed, rel)
	}
	sort.Strings(s.res.Removed)
	return nil
}

// remoteSums hashes the given files below dir on the host with one
// sha256sum command (as root with sudo); the names travel on stdin,
// NUL-separated.
func (h *Host) remoteSums(ctx context.Context, dir string, rels []string, sudo bool) (map[string]string, error) {
	sums := map[string]string{}
	if len(rels) == 0 {
		return sums, nil
	}
	list, err := h.privateDir("")
	if err != nil {
		return nil, err
	}
	defer h.removeTree(list)
	names := path.Join(list, "names")
	if err := h.writeBytes(ctx, names, []byte(strings.Join(rels, "\x00")+"\x00"), 0o600); err != nil {
		return nil, err
	}
	out, err := h.Exec(ctx, "cd "+host.Quote(dir)+" && xargs -0 sha256sum -z -- < "+host.Quote(names), sudo, nil)
	if err != nil {
		return nil, fmt.Errorf("sync: hash remote files: %w", err)
	}
	for _, rec := range strings.Split(out, "\x00") {
		sum, name, ok := strings.Cut(rec, "  ")
		if ok && len(sum) == 64 {
			sums[name] = sum
		}
	}
	return sums, nil
}

// localSums hashes the given files below dir, several at once.
func localSums(ctx context.Context, fsys host.FS, dir string, rels []string) (map[string]string, error) {
	sums := make([]string, len(rels))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, rel := range rels {
		g.Go(func() error {
			f, err := fsys.Open(path.Join(dir, rel))
			if err != nil {
				return err
			}
			defer f.Close()
			hash := sha256.New()
			if _, err := io.Copy(hash, ctxReader{ctx: ctx, r: f}); err != nil {
				return err
			}
			sums[i] = hex.EncodeToString(hash.Sum(nil))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("sync: hash local files: %w", err)
	}
	m := make(map[string]string, len(rels))
	for i, rel := range rels {
		m[rel] = sums[i]
	}
	return m, nil
}
