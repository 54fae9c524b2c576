package modfetch

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/gofab/gofab/internal/mod/modcache"
)

// Proxy fetches modules from a server speaking Go's module proxy protocol
// (GOFAB_PROXY: $URL/<path>/@v/list, <version>.info, .mod, .zip), over
// https:// or from a file:// directory laid out the same way, so a
// company's Athens or Artifactory can cache recipe modules and CI can run
// offline. Its zips hash to the same h1: as gofab's own git fetches.
type Proxy struct {
	URL    string
	Client *http.Client
}

// ErrNotFound is a proxy's 404 or 410: it does not serve the module.
var ErrNotFound = errors.New("not found on the module proxy")

// maxProxyFile bounds what one proxy answer may be.
const maxProxyFile = 256 << 20

func (p *Proxy) get(ctx context.Context, path, file string) ([]byte, error) {
	esc, err := module.EscapePath(path)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSuffix(p.URL, "/") + "/" + esc + "/@v/" + file)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "file" {
		data, err := os.ReadFile(filepath.FromSlash(u.Path))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", u, ErrNotFound)
		}
		return data, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	client := p.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("module proxy: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%s: %w", Redact(u.String()), ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("module proxy %s: %s", Redact(u.String()), resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxProxyFile))
}

// Resolve turns "latest" or a semver version into a version the proxy
// serves; branches and commits are for git (a proxy lists tags only).
func (p *Proxy) Resolve(ctx context.Context, path, query string) (Rev, error) {
	_, pathMajor, _ := module.SplitPathVersion(path)
	if query == "latest" {
		list, err := p.get(ctx, path, "list")
		if err != nil {
			return Rev{}, err
		}
		best := ""
		for _, v := range strings.Fields(string(list)) {
			if semver.IsValid(v) && module.CheckPathMajor(v, pathMajor) == nil && (best == "" || better(v, best)) {
				best = v
			}
		}
		if best == "" {
			return Rev{}, fmt.Errorf("%s: the module proxy lists no versions: %w", path, ErrNotFound)
		}
		query = best
	}
	if !semver.IsValid(query) {
		return Rev{}, fmt.Errorf("%s@%s: a module proxy serves versions, not branches or commits (GOFAB_PROXY=direct fetches from git)", path, query)
	}
	if err := module.Check(path, query); err != nil {
		return Rev{}, err
	}
	data, err := p.get(ctx, path, query+".info")
	if err != nil {
		return Rev{}, err
	}
	var info struct {
		Version string
		Time    time.Time
	}
	if err := json.Unmarshal(data, &info); err != nil || info.Version != query {
		return Rev{}, fmt.Errorf("%s@%s: the module proxy's .info is not valid", path, query)
	}
	return Rev{Version: query, Time: info.Time.Unix()}, nil
}

// Files returns m's tree from the proxy's zip, whose every file is
// named path@version/…, and the module's gofab.mod (nil when the tree has
// none).
func (p *Proxy) Files(ctx context.Context, m module.Version) ([]modcache.File, []byte, error) {
	data, err := p.get(ctx, m.Path, m.Version+".zip")
	if err != nil {
		return nil, nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, fmt.Errorf("%s@%s: the module proxy's zip: %w", m.Path, m.Version, err)
	}
	prefix := m.Path + "@" + m.Version + "/"
	var files []modcache.File
	var mod []byte
	for _, f := range zr.File {
		name, ok := strings.CutPrefix(f.Name, prefix)
		if !ok || strings.HasSuffix(f.Name, "/") {
			return nil, nil, fmt.Errorf("%s@%s: the module proxy's zip holds %q, outside %s", m.Path, m.Version, f.Name, prefix)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, nil, err
		}
		body, err := io.ReadAll(io.LimitReader(rc, maxProxyFile))
		rc.Close()
		if err != nil {
			return nil, nil, err
		}
		files = append(files, modcache.File{Name: name, Data: body})
		if name == "gofab.mod" {
			mod = body
		}
	}
	return files, mod, nil
}
