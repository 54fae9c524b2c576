package tests

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	modzip "golang.org/x/mod/zip"

	modversion "golang.org/x/mod/module"
)

// TestModGetOverSmartHTTP serves the repository with git http-backend
// (net/http/cgi) on loopback and gets it by an http:// URL.
func TestModGetOverSmartHTTP(t *testing.T) {
	needGit(t)
	base := t.TempDir()
	repo := recipesRepo(t, filepath.Join(base, "work"), "git.example.com/ops/recipes", "over http", "v1.4.2")
	bare := filepath.Join(base, "srv", "recipes.git")
	repo.git("clone", "-q", "--bare", repo.dir, bare)
	execPath, _ := exec.Command("git", "--exec-path").Output()
	backend := &cgi.Handler{Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Join(base, "srv"), "GIT_HTTP_EXPORT_ALL=1"}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: backend}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p := newModProject(t, nginxFabfile)
	url := "http://" + ln.Addr().String() + "/recipes.git"
	wantCode(t, p.gofab("get", url+"@v1.4.2"), 0)
	if !strings.Contains(p.read("gofab.mod"), "source git.example.com/ops/recipes \""+url+"\"") {
		t.Fatalf("gofab.mod:\n%s", p.read("gofab.mod"))
	}
	srv.Close()
	mustContain(t, p.gofab("-H", "local", "nginx.reload"), "over http from lib")
}

// TestModGetOverSSH fetches through the testbed's real sshd
// (git-upload-pack over SSH), with gofab's ssh_config, key and
// known_hosts checking; an unknown host key is refused.
func TestModGetOverSSH(t *testing.T) {
	needTestbed(t)
	needGit(t)
	base, err := os.MkdirTemp("", "gofab-modssh-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	repo := recipesRepo(t, filepath.Join(base, "recipes"), "git.example.com/ops/recipes", "over ssh", "v2.0.0", "v1.0.0")
	u, err := user.Lookup(tb.User)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	filepath.Walk(repo.dir, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, uid, gid) })

	p := newModProject(t, nginxFabfile)
	sshConfig := func(knownHosts string) {
		writeFile(t, filepath.Join(p.dir, ".ssh", "config"), fmt.Sprintf("Host gitbox\n  HostName 127.0.0.2\n  Port %s\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n",
			tb.Port, tb.User, tb.Key, knownHosts))
	}
	empty := filepath.Join(p.dir, "empty_known_hosts")
	writeFile(t, empty, "")
	sshConfig(empty)
	r := p.gofab("get", "-S", filepath.Join(p.dir, ".ssh", "config"), "gitbox:"+repo.dir+"@v1.0.0")
	wantCode(t, r, 2)
	mustContain(t, r, "gitbox")
	if strings.TrimSpace(p.read("gofab.sum")) != "" {
		t.Error("a refused host key still recorded hashes")
	}

	sshConfig(tb.KnownHosts)
	// Through a jump host, as ProxyJump in ssh_config says.
	f, _ := os.OpenFile(filepath.Join(p.dir, ".ssh", "config"), os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "Host gitjump\n  HostName 127.0.0.4\n  ProxyJump gitbox\n  Port %s\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n",
		tb.Port, tb.User, tb.Key, tb.KnownHosts)
	f.Close()
	r = p.gofab("get", "-S", filepath.Join(p.dir, ".ssh", "config"), "ssh://gitjump"+repo.dir+"@v1.0.0")
	wantCode(t, r, 0)
	wantCode(t, p.gofab("get", "git.example.com/ops/recipes@none"), 0)
	r = p.gofab("get", "-S", filepath.Join(p.dir, ".ssh", "config"), "ssh://gitbox"+repo.dir+"@v1.0.0")
	wantCode(t, r, 0)
	mustContain(t, p.gofab("-H", "local", "nginx.reload"), "over ssh from lib")
	// The major-version rule: v2 tags need the /v2 path.
	r = p.gofab("get", "-S", filepath.Join(p.dir, ".ssh", "config"), "git.example.com/ops/recipes@v2.0.0")
	wantCode(t, r, 2)
	mustContain(t, r, "v2")
}

// TestModProxy: GOFAB_PROXY speaks Go's module proxy protocol; a file://
// proxy made with x/mod's zip package serves the module offline, with the
// same h1: hash a git fetch records; a module it lacks comes from git
// only when gofab.mod names its source (or with ",direct").
func TestModProxy(t *testing.T) {
	base := t.TempDir()
	repoDir := filepath.Join(base, "recipes")
	recipesRepo(t, repoDir, "git.example.com/ops/recipes", "proxied", "v1.0.0")
	other := newGitRepo(t, filepath.Join(base, "other"))
	other.commit(map[string]string{"gofab.mod": "module example.org/other\n", "init.lua": "return {}\n"}, "v0.1.0")

	m := modversion.Version{Path: "git.example.com/ops/recipes", Version: "v1.0.0"}
	tree := filepath.Join(base, "tree")
	for name, content := range map[string]string{"gofab.mod": "module " + m.Path + "\ngofab 0.2\n", "nginx/init.lua": nginxModule("proxied"), "lib/util.lua": "return {word = 'from lib'}\n"} {
		writeFile(t, filepath.Join(tree, name), content)
	}
	at := filepath.Join(base, "proxy", "git.example.com", "ops", "recipes", "@v")
	os.MkdirAll(at, 0o755)
	var zipped bytes.Buffer
	if err := modzip.CreateFromDir(&zipped, m, tree); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(at, "v1.0.0.zip"), zipped.String())
	writeFile(t, filepath.Join(at, "v1.0.0.mod"), "module "+m.Path+"\ngofab 0.2\n")
	writeFile(t, filepath.Join(at, "v1.0.0.info"), `{"Version":"v1.0.0","Time":"2026-01-02T03:04:05Z"}`)
	writeFile(t, filepath.Join(at, "list"), "v1.0.0\n")

	viaGit := newModProject(t, nginxFabfile)
	wantCode(t, viaGit.gofab("get", "file://"+repoDir+"@v1.0.0"), 0)

	viaProxy := newModProject(t, nginxFabfile)
	viaProxy.env = append(viaProxy.env, "GOFAB_PROXY=file://"+filepath.Join(base, "proxy"))
	wantCode(t, viaProxy.gofab("get", "git.example.com/ops/recipes@latest"), 0)
	if viaProxy.read("gofab.sum") != viaGit.read("gofab.sum") {
		t.Errorf("proxy and git hashes differ:\n%s\n%s", viaProxy.read("gofab.sum"), viaGit.read("gofab.sum"))
	}
	mustContain(t, viaProxy.gofab("-H", "local", "nginx.reload"), "proxied from lib")

	// A module the proxy lacks is an error (no network is tried without
	// ",direct"), unless gofab.mod names its source: then git fetches it.
	r := viaProxy.gofab("get", "example.org/missing@v1.0.0")
	wantCode(t, r, 2)
	mustContain(t, r, "not found on the module proxy")
	viaProxy.appendMod("source example.org/other \"file://%s/other\"\n", base)
	wantCode(t, viaProxy.gofab("get", "example.org/other@v0.1.0"), 0)
}
