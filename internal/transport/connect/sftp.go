package connect

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/pkg/sftp"

	"github.com/gofab/gofab/internal/base/host"
)

// sftpPacket is the SFTP packet size: 32 KiB is what every server accepts
// (larger packets silently truncate downloads from some servers).
const sftpPacket = 32 << 10

// sftpInFlight is how many requests one file transfer keeps in flight:
// 64 × 32 KiB fills x/crypto's 2 MiB channel window.
const sftpInFlight = 64

// OpenSSH's sftp-server reads and writes up to 255 KiB per request, so
// with it gofab moves 128 KiB a request, 16 in flight (the same 2 MiB
// window): a quarter of the requests, syscalls and goroutine wake-ups.
const (
	opensshPacket   = 128 << 10
	opensshInFlight = 16
)

// sftpSizes returns the packet size and requests in flight for a server
// by its version banner.
func sftpSizes(serverVersion []byte) (packet, inFlight int) {
	if strings.HasPrefix(string(serverVersion), "SSH-2.0-OpenSSH_") {
		return opensshPacket, opensshInFlight
	}
	return sftpPacket, sftpInFlight
}

// sftpFS is a host.FS over one SFTP session.
type sftpFS struct {
	c    *sftp.Client
	home string
}

func newSFTP(ctx context.Context, conn *sshConn) (*sftpFS, error) {
	type opened struct {
		c   *sftp.Client
		err error
	}
	ch := make(chan opened, 1)
	packet, inFlight := sftpSizes(conn.client.ServerVersion())
	go func() {
		c, err := sftp.NewClient(conn.client,
			sftp.MaxPacketUnchecked(packet),
			sftp.MaxConcurrentRequestsPerFile(inFlight),
			sftp.UseConcurrentWrites(true),
			sftp.UseConcurrentReads(true))
		ch <- opened{c, err}
	}()
	var o opened
	select {
	case o = <-ch:
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.c != nil {
				o.c.Close()
			}
		}()
		return nil, context.Cause(ctx)
	}
	if o.err != nil {
		return nil, fmt.Errorf("open sftp session: %w", o.err)
	}
	home, err := o.c.Getwd()
	if err != nil {
		o.c.Close()
		return nil, fmt.Errorf("sftp: login directory: %w", err)
	}
	return &sftpFS{c: o.c, home: home}, nil
}

func (f *sftpFS) Abs(p string) (string, error) {
	switch {
	case p == "~":
		return f.home, nil
	case strings.HasPrefix(p, "~/"):
		return path.Join(f.home, p[2:]), nil
	case strings.HasPrefix(p, "~"):
		return "", fmt.Errorf("%s: ~user paths are not supported; give the full path", p)
	case path.IsAbs(p):
		return path.Clean(p), nil
	}
	return path.Join(f.home, p), nil
}

func (f *sftpFS) Stat(p string) (fs.FileInfo, error)      { return f.c.Stat(p) }
func (f *sftpFS) Lstat(p string) (fs.FileInfo, error)     { return f.c.Lstat(p) }
func (f *sftpFS) ReadDir(p string) ([]fs.FileInfo, error) { return f.c.ReadDir(p) }

func (f *sftpFS) ReadLink(p string) (string, error)      { return f.c.ReadLink(p) }
func (f *sftpFS) Symlink(target, link string) error      { return f.c.Symlink(target, link) }
func (f *sftpFS) Glob(pattern string) ([]string, error)  { return f.c.Glob(pattern) }
func (f *sftpFS) Remove(p string) error                  { return f.c.Remove(p) }
func (f *sftpFS) Chmod(p string, mode fs.FileMode) error { return f.c.Chmod(p, mode) }

// FreeSpace returns the bytes free to the user on p's file system, through
// OpenSSH's statvfs extension.
func (f *sftpFS) FreeSpace(p string) (uint64, error) {
	st, err := f.c.StatVFS(p)
	if err != nil {
		return 0, err
	}
	return st.Frsize * st.Bavail, nil
}
func (f *sftpFS) Open(p string) (host.File, error) { return f.c.Open(p) }
func (f *sftpFS) close() error                     { return f.c.Close() }
func (f *sftpFS) CreateExclusive(p string) (host.File, error) {
	return f.c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
}

func (f *sftpFS) Mkdir(p string, perm fs.FileMode) error {
	if err := f.c.Mkdir(p); err != nil {
		return err
	}
	return f.c.Chmod(p, perm)
}

// Rename replaces newpath atomically with OpenSSH's posix-rename extension,
// falling back to plain SFTP rename (which refuses to replace) elsewhere.
func (f *sftpFS) Rename(oldpath, newpath string) error {
	if _, ok := f.c.HasExtension("posix-rename@openssh.com"); ok {
		return f.c.PosixRename(oldpath, newpath)
	}
	return f.c.Rename(oldpath, newpath)
}

// sftpSession keeps one SFTP session per SSH connection, opened on first
// use and opened again when the previous one ended.
type sftpSession struct {
	mu   sync.Mutex
	fs   *sftpFS
	dead chan struct{}
}

func (s *sftpSession) get(ctx context.Context, conn *sshConn) (host.FS, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fs != nil {
		select {
		case <-s.dead:
			s.fs = nil
		default:
			return s.fs, nil
		}
	}
	// The SFTP channel holds one of the connection's sessions for as long
	// as it is open.
	select {
	case conn.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	f, err := newSFTP(ctx, conn)
	if err != nil {
		<-conn.sem
		return nil, err
	}
	dead := make(chan struct{})
	go func() {
		f.c.Wait()
		<-conn.sem
		close(dead)
	}()
	s.fs, s.dead = f, dead
	return f, nil
}

func (s *sftpSession) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fs != nil {
		s.fs.close()
		s.fs = nil
	}
}
