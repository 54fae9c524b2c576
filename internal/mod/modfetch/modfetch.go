// Package modfetch fetches recipe modules from git repositories, in
// process (github.com/go-git/go-git/v5): over https://, over SSH through
// gofab's own ssh_config, keys, agent and known_hosts checking, and from
// file:// URLs and local paths. It turns a query (a tag, a branch, a
// commit, "latest") into a module version, a pseudo-version for anything
// that is not a semver tag, as Go does.
package modfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
	"golang.org/x/crypto/ssh"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/net/proxy"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/mod/modcache"
)

// SSH is how git over SSH connects: gofab's dialer (connect.Dialer)
// gives both.
type SSH interface {
	ClientConfig(addr host.Addr) (*ssh.ClientConfig, error)
	Stream(ctx context.Context, addr host.Addr) (net.Conn, error)
}

// Fetcher fetches module versions. Each repository is cloned, into
// memory, once per Fetcher. It is safe for concurrent use.
type Fetcher struct {
	// SSH connects to ssh:// and user@host:path URLs; nil refuses them.
	SSH SSH

	mu    sync.Mutex
	repos map[string]*git.Repository
}

// Rev is a resolved module version.
type Rev struct {
	Version string
	Commit  string
	Time    int64 // Unix seconds, the commit's time
}

var installFile sync.Once

// open clones url into memory, once.
func (f *Fetcher) open(ctx context.Context, rawURL string) (*git.Repository, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.repos[rawURL]; ok {
		return r, nil
	}
	// Local repositories are read in process, not by running git-upload-pack.
	installFile.Do(func() { client.InstallProtocol("file", server.NewServer(repoLoader{})) })
	opts := &git.CloneOptions{URL: rawURL, NoCheckout: true, Tags: git.AllTags}
	ep, err := transport.NewEndpoint(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rawURL, err)
	}
	if ep.Protocol == "ssh" {
		if err := f.sshOptions(ep, opts); err != nil {
			return nil, err
		}
	}
	r, err := git.CloneContext(ctx, memory.NewStorage(), nil, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("fetch %s: %w", Redact(rawURL), err)
	}
	if f.repos == nil {
		f.repos = map[string]*git.Repository{}
	}
	f.repos[rawURL] = r
	return r, nil
}

// repoLoader opens a local repository for the in-process file://
// transport: a bare one, or a working tree's .git (go-git's own
// filesystem loader reads a working tree as if it were bare).
type repoLoader struct{}

func (repoLoader) Load(ep *transport.Endpoint) (storer.Storer, error) {
	root := osfs.New(ep.Path)
	if fi, err := root.Stat(".git"); err == nil && fi.IsDir() {
		dotgit, err := root.Chroot(".git")
		if err != nil {
			return nil, err
		}
		return filesystem.NewStorage(dotgit, cache.NewObjectLRUDefault()), nil
	}
	if _, err := root.Stat("config"); err != nil {
		return nil, transport.ErrRepositoryNotFound
	}
	return filesystem.NewStorage(root, cache.NewObjectLRUDefault()), nil
}

// Redact hides a password in a URL.
func Redact(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		if _, set := u.User.Password(); set {
			return u.Redacted()
		}
	}
	return rawURL
}

// Resolve turns query into a version of module modPath in the repository
// at url (modPath "" skips the major-version check of a tag): a semver tag as it is; "latest" the newest release tag of the
// path's major version (else the newest tag, else the default branch's
// head); a branch, a commit or a pseudo-version a pseudo-version of its
// commit.
func (f *Fetcher) Resolve(ctx context.Context, url, modPath, query string) (Rev, error) {
	r, err := f.open(ctx, url)
	if err != nil {
		return Rev{}, err
	}
	tags, err := semverTags(r)
	if err != nil {
		return Rev{}, err
	}
	_, pathMajor, _ := module.SplitPathVersion(modPath)
	switch {
	case query == "latest":
		return f.latest(r, tags, modPath, pathMajor)
	case semver.IsValid(query) && !module.IsPseudoVersion(query):
		if semver.Canonical(query) != query {
			return Rev{}, fmt.Errorf("%s@%s: not a canonical version (want %s)", modPath, query, semver.Canonical(query))
		}
		if err := module.CheckPathMajor(query, pathMajor); modPath != "" && err != nil {
			return Rev{}, fmt.Errorf("%s@%s: %w", modPath, query, err)
		}
		h, ok := tags[query]
		if !ok {
			return Rev{}, fmt.Errorf("%s@%s: no tag %s in %s", modPath, query, query, Redact(url))
		}
		return revAt(r, h, query)
	}
	rev := query
	if module.IsPseudoVersion(query) {
		if rev, err = module.PseudoVersionRev(query); err != nil {
			return Rev{}, err
		}
	}
	h, err := resolveRev(r, rev)
	if err != nil {
		return Rev{}, fmt.Errorf("%s@%s: %w in %s", modPath, query, err, Redact(url))
	}
	return pseudo(r, tags, h, pathMajor)
}

// latest is the newest release tag of pathMajor, else the newest
// pre-release, else a pseudo-version of HEAD.
func (f *Fetcher) latest(r *git.Repository, tags map[string]plumbing.Hash, modPath, pathMajor string) (Rev, error) {
	best := ""
	for v := range tags {
		if module.CheckPathMajor(v, pathMajor) != nil {
			continue
		}
		if best == "" || better(v, best) {
			best = v
		}
	}
	if best != "" {
		return revAt(r, tags[best], best)
	}
	head, err := r.Head()
	if err != nil {
		return Rev{}, fmt.Errorf("%s: no version tags and no default branch: %w", modPath, err)
	}
	return pseudo(r, tags, head.Hash(), pathMajor)
}

// better reports whether v is preferred to w: releases over pre-releases,
// then higher versions.
func better(v, w string) bool {
	if (semver.Prerelease(v) == "") != (semver.Prerelease(w) == "") {
		return semver.Prerelease(v) == ""
	}
	return semver.Compare(v, w) > 0
}

// Versions lists the repository's semver tags usable by modPath.
func (f *Fetcher) Versions(ctx context.Context, url, modPath string) ([]string, error) {
	r, err := f.open(ctx, url)
	if err != nil {
		return nil, err
	}
	tags, err := semverTags(r)
	if err != nil {
		return nil, err
	}
	_, pathMajor, _ := module.SplitPathVersion(modPath)
	var out []string
	for v := range tags {
		if module.CheckPathMajor(v, pathMajor) == nil {
			out = append(out, v)
		}
	}
	semver.Sort(out)
	return out, nil
}

// semverTags maps each canonical semver tag to its commit.
func semverTags(r *git.Repository) (map[string]plumbing.Hash, error) {
	iter, err := r.Tags()
	if err != nil {
		return nil, err
	}
	out := map[string]plumbing.Hash{}
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		name := ref.Name().Short()
		if !semver.IsValid(name) || semver.Canonical(name) != name || semver.Build(name) != "" {
			return nil
		}
		h, err := r.ResolveRevision(plumbing.Revision(ref.Name().String()))
		if err != nil {
			return nil
		}
		out[name] = *h
		return nil
	})
	return out, err
}

// resolveRev finds a branch, tag or (abbreviated) commit.
func resolveRev(r *git.Repository, rev string) (plumbing.Hash, error) {
	for _, name := range []string{"refs/remotes/origin/" + rev, "refs/heads/" + rev, "refs/tags/" + rev} {
		if h, err := r.ResolveRevision(plumbing.Revision(name)); err == nil {
			return *h, nil
		}
	}
	if len(rev) >= 7 && len(rev) <= 40 && strings.Trim(rev, "0123456789abcdef") == "" {
		if h, err := r.ResolveRevision(plumbing.Revision(rev)); err == nil {
			return *h, nil
		}
		var found []plumbing.Hash
		iter, err := r.CommitObjects()
		if err == nil {
			iter.ForEach(func(c *object.Commit) error {
				if strings.HasPrefix(c.Hash.String(), rev) {
					found = append(found, c.Hash)
				}
				return nil
			})
		}
		if len(found) == 1 {
			return found[0], nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("no branch, tag or commit %q", rev)
}

func revAt(r *git.Repository, h plumbing.Hash, version string) (Rev, error) {
	c, err := r.CommitObject(h)
	if err != nil {
		return Rev{}, fmt.Errorf("%s: %w", version, err)
	}
	return Rev{Version: version, Commit: h.String(), Time: c.Committer.When.Unix()}, nil
}

// pseudo is the pseudo-version of commit h: based on the highest semver
// tag of pathMajor among its ancestors, as Go forms them.
func pseudo(r *git.Repository, tags map[string]plumbing.Hash, h plumbing.Hash, pathMajor string) (Rev, error) {
	c, err := r.CommitObject(h)
	if err != nil {
		return Rev{}, err
	}
	byCommit := map[plumbing.Hash][]string{}
	for v, th := range tags {
		if module.CheckPathMajor(v, pathMajor) == nil {
			byCommit[th] = append(byCommit[th], v)
		}
	}
	older := ""
	iter := object.NewCommitPreorderIter(c, nil, nil)
	iter.ForEach(func(a *object.Commit) error {
		for _, v := range byCommit[a.Hash] {
			if older == "" || semver.Compare(v, older) > 0 {
				older = v
			}
		}
		return nil
	})
	major := strings.TrimPrefix(pathMajor, "/")
	if older != "" {
		major = semver.Major(older)
	}
	t := c.Committer.When.UTC()
	return Rev{Version: module.PseudoVersion(major, older, t, h.String()[:12]), Commit: h.String(), Time: t.Unix()}, nil
}

// Files returns the module tree at commit: every regular file under dir
// ("" is the repository's root). Symbolic links and submodules are left
// out: a module is what its files say.
func (f *Fetcher) Files(ctx context.Context, url, commit, dir string) ([]modcache.File, error) {
	r, err := f.open(ctx, url)
	if err != nil {
		return nil, err
	}
	c, err := r.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return nil, err
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, err
	}
	if dir != "" {
		if tree, err = tree.Tree(dir); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
	}
	var files []modcache.File
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if entry.Mode != filemode.Regular && entry.Mode != filemode.Executable {
			continue
		}
		blob, err := r.BlobObject(entry.Hash)
		if err != nil {
			return nil, err
		}
		data, err := readBlob(blob)
		if err != nil {
			return nil, err
		}
		files = append(files, modcache.File{Name: path.Clean(name), Data: data})
	}
}

func readBlob(b *object.Blob) ([]byte, error) {
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// sshOptions routes an SSH URL through gofab's dialer: go-git runs the
// handshake with gofab's client configuration over a stream gofab opened
// (ProxyJump and ProxyCommand included), reached through a proxy dialer
// registered for the scheme "gofab-ssh".
func (f *Fetcher) sshOptions(ep *transport.Endpoint, opts *git.CloneOptions) error {
	if f.SSH == nil {
		return fmt.Errorf("%s: SSH is not available here", ep.String())
	}
	addr := host.Addr{User: ep.User, Host: ep.Host}
	if ep.Port != 0 && ep.Port != 22 {
		addr.Port = ep.Port
	}
	config, err := f.SSH.ClientConfig(addr)
	if err != nil {
		return fmt.Errorf("%s: %w", ep.Host, err)
	}
	opts.Auth = &sshAuth{config: config}
	key := registerStream(func(ctx context.Context) (net.Conn, error) { return f.SSH.Stream(ctx, addr) })
	opts.ProxyOptions = transport.ProxyOptions{URL: "gofab-ssh://" + key}
	return nil
}

// sshAuth hands go-git gofab's SSH client configuration.
type sshAuth struct{ config *ssh.ClientConfig }

func (a *sshAuth) Name() string                             { return "gofab" }
func (a *sshAuth) String() string                           { return "gofab ssh (" + a.config.User + ")" }
func (a *sshAuth) ClientConfig() (*ssh.ClientConfig, error) { return a.config, nil }

var (
	streamsMu   sync.Mutex
	streams     = map[string]func(context.Context) (net.Conn, error){}
	registerOne sync.Once
)

// registerStream records a stream opener under a fresh key for the
// gofab-ssh proxy scheme.
func registerStream(open func(context.Context) (net.Conn, error)) string {
	registerOne.Do(func() {
		proxy.RegisterDialerType("gofab-ssh", func(u *url.URL, _ proxy.Dialer) (proxy.Dialer, error) {
			streamsMu.Lock()
			defer streamsMu.Unlock()
			open, ok := streams[u.Host]
			if !ok {
				return nil, fmt.Errorf("gofab-ssh: unknown stream %q", u.Host)
			}
			return streamDialer(open), nil
		})
	})
	streamsMu.Lock()
	defer streamsMu.Unlock()
	key := fmt.Sprintf("s%d", len(streams)+1)
	streams[key] = open
	return key
}

// streamDialer is a proxy.ContextDialer that opens gofab's stream.
type streamDialer func(context.Context) (net.Conn, error)

func (d streamDialer) Dial(network, addr string) (net.Conn, error) {
	return d(context.Background())
}

func (d streamDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d(ctx)
}
