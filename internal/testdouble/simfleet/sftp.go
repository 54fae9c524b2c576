package simfleet

import (
	"io"
	"os"

	"github.com/pkg/sftp"
)

// sinkFS is a host's SFTP file system: pkg/sftp's in-memory one, except
// that file content is dropped, so ten thousand hosts can each
// receive a file without the fleet holding them all.
type sinkFS struct {
	mem sftp.Handlers
}

// newSinkFS returns a file system holding the directories a Debian host
// has, empty.
func newSinkFS(user string) *sinkFS {
	s := &sinkFS{mem: sftp.InMemHandler()}
	for _, d := range []string{"/etc", "/home", "/home/" + user, "/root", "/srv", "/tmp", "/var", "/var/tmp", "/var/www"} {
		s.mem.FileCmd.Filecmd(sftp.NewRequest("Mkdir", d))
	}
	return s
}

// serve runs the SFTP protocol over rw until it ends.
func (s *sinkFS) serve(rw io.ReadWriteCloser) {
	h := s.mem
	h.FilePut = s
	h.FileCmd = dirSetstat{s.mem.FileCmd, s.mem.FileList}
	srv := sftp.NewRequestServer(rw, h)
	srv.Serve()
	srv.Close()
}

// Filewrite creates the file in memory and returns a writer that drops
// what it is given.
func (s *sinkFS) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	if _, err := s.mem.FilePut.Filewrite(r); err != nil {
		return nil, err
	}
	return sink{}, nil
}

// sink drops what is written to it.
type sink struct{}

func (sink) WriteAt(p []byte, _ int64) (int, error) { return len(p), nil }

// dirSetstat is the in-memory file system's commands, with a chmod of a
// directory accepted (pkg/sftp's example handler opens the path as a file
// for any setstat, and fails on a directory; OpenSSH's sftp-server sets
// the mode).
type dirSetstat struct {
	sftp.FileCmder
	list sftp.FileLister
}

func (d dirSetstat) Filecmd(r *sftp.Request) error {
	if r.Method == "Setstat" {
		if l, err := d.list.Filelist(sftp.NewRequest("Stat", r.Filepath)); err == nil {
			fi := make([]os.FileInfo, 1)
			if n, _ := l.ListAt(fi, 0); n == 1 && fi[0].IsDir() {
				return nil
			}
		}
	}
	return d.FileCmder.Filecmd(r)
}
