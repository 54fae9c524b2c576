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

	"github.com/gofab/gofab/internal/host"
	"github.com/gofab/gofab/internal/remote"
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
	var res SyncResult
	if !isDir(h.local(), localDir) {
		return res, fmt.Errorf("sync: local %s is not a directory", localDir)
	}
	rd, err := h.FS.Abs(remoteDir)
	if err != nil {
		return res, err
	}
	skip := func(rel string, _ bool) bool { return excluded(o.Exclude, rel) }
	local, err := walk(h.local(), localDir, rd, false, skip)
	if err != nil {
		return res, fmt.Errorf("sync: read %s: %w", localDir, err)
	}
	// With sudo, changes become one script: the plan of what to write,
	// the entries to remove first and those to delete at the end.
	var sudo struct {
		plan          []item
		replace, gone []string
	}
	var remoteItems []item
	switch {
	case isDir(h.FS, rd):
		if remoteItems, err = walk(h.FS, rd, rd, false, skip); err != nil {
			return res, fmt.Errorf("sync: list remote %s: %w", rd, err)
		}
	case o.UseSudo:
		sudo.plan = append(sudo.plan, item{kind: dir, dst: rd, mode: 0o755})
	case !o.Check:
		if err := mkdirAll(h.FS, rd, 0o755); err != nil {
			return res, err
		}
	}
	// act runs a change unless this is a check; with sudo, plan notes it
	// for the script instead.
	act := func(change func() error, plan func()) error {
		switch {
		case o.Check:
			return nil
		case o.UseSudo:
			plan()
			return nil
		}
		return change()
	}
	have := make(map[string]item, len(remoteItems))
	for _, it := range remoteItems {
		if it.rel != "" && !isTemp(path.Base(it.rel)) {
			have[it.rel] = it
		}
	}

	// Files of equal size are compared by hash, remote ones in one command.
	var same []string
	for _, it := range local {
		if r, ok := have[it.rel]; ok && it.kind == file && r.kind == file && r.size == it.size {
			same = append(same, it.rel)
		}
	}
	remoteSums, err := h.remoteSums(ctx, rd, same, o.UseSudo)
	if err != nil {
		return res, err
	}
	localSums, err := localSums(ctx, h.local(), localDir, same)
	if err != nil {
		return res, err
	}

	var uploads []item
	for _, it := range local {
		if it.rel == "" {
			continue
		}
		r, exists := have[it.rel]
		delete(have, it.rel)
		switch it.kind {
		case dir:
			if exists && r.kind != dir {
				err := act(func() error { return h.FS.Remove(it.dst) }, func() { sudo.replace = append(sudo.replace, it.dst) })
				if err != nil {
					return res, fmt.Errorf("sync: replace %s with a directory: %w", it.dst, err)
				}
				exists = false
			}
			if !exists {
				// Another host sharing the file system may make it first.
				d := it
				d.mode = 0o755 // as without sudo
				err := act(func() error { return h.FS.Mkdir(it.dst, 0o755) }, func() { sudo.plan = append(sudo.plan, d) })
				if err != nil && !isDir(h.FS, it.dst) {
					return res, fmt.Errorf("sync: mkdir %s: %w", it.dst, err)
				}
			}
		case link:
			if exists && r.kind == link && r.link == it.link {
				continue
			}
			if err := act(func() error { return replaceLink(h.FS, it.link, it.dst) }, func() { sudo.plan = append(sudo.plan, it) }); err != nil {
				return res, err
			}
			res.Files = append(res.Files, it.rel)
		case file:
			sumOK := exists && r.kind == file && remoteSums[it.rel] != "" && remoteSums[it.rel] == localSums[it.rel]
			switch {
			case sumOK && r.mode == it.mode:
				continue
			case sumOK:
				if err := act(func() error { return h.FS.Chmod(it.dst, it.mode) }, func() { sudo.plan = append(sudo.plan, it) }); err != nil {
					return res, fmt.Errorf("sync: chmod %s: %w", it.dst, err)
				}
			default:
				uploads = append(uploads, it)
			}
			res.Files = append(res.Files, it.rel)
		}
	}
	if err := act(func() error { return h.uploadAll(ctx, uploads, nil) }, func() { sudo.plan = append(sudo.plan, uploads...) }); err != nil {
		return res, err
	}
	if o.Delete {
		// Deepest first, so directories are empty when their turn comes.
		var gone []string
		for rel := range have {
			gone = append(gone, rel)
		}
		sort.Sort(sort.Reverse(sort.StringSlice(gone)))
		for _, rel := range gone {
			p := path.Join(rd, rel)
			if err := act(func() error { return h.FS.Remove(p) }, func() { sudo.gone = append(sudo.gone, p) }); err != nil {
				return res, fmt.Errorf("sync: delete %s: %w", p, err)
			}
			res.Removed = append(res.Removed, rel)
		}
		sort.Strings(res.Removed)
	}
	if len(sudo.plan)+len(sudo.replace)+len(sudo.gone) > 0 {
		po := PutOptions{MirrorLocalMode: true, UseSudo: true, TempDir: o.TempDir}
		if _, err := h.putSudo(ctx, sudo.plan, po, sudo.replace, sudo.gone); err != nil {
			return res, fmt.Errorf("sync: %w", err)
		}
	}
	sort.Strings(res.Files)
	res.Changed, res.Deleted = len(res.Files), len(res.Removed)
	return res, nil
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
	out, err := h.Exec(ctx, "cd "+remote.Quote(dir)+" && xargs -0 sha256sum -z -- < "+remote.Quote(names), sudo, nil)
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
