package redistest

import (
	"os"
	"path/filepath"
	"testing"
)

// Snapshot copies the data directory of a server started with
// StartPersistent (its append-only files, fsynced on every write) into a new
// temporary directory and returns that directory: a backup taken now.
func (s *Server) Snapshot(tb testing.TB) string {
	tb.Helper()
	if !s.persistent {
		tb.Fatal("redistest: Snapshot needs a server from StartPersistent")
	}
	snap := tb.TempDir()
	if err := copyTree(s.dir, snap); err != nil {
		tb.Fatalf("redistest: snapshot %s: %v", s.dir, err)
	}
	return snap
}

// RestoreSnapshot stops the server, replaces its data with snap (from
// Snapshot) and starts it again on the same port: the server comes back
// with the older data, as after restoring a backup.
func (s *Server) RestoreSnapshot(tb testing.TB, snap string) {
	tb.Helper()
	s.stop(tb)
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
			tb.Fatal(err)
		}
	}
	if err := copyTree(snap, s.dir); err != nil {
		tb.Fatalf("redistest: restore %s: %v", snap, err)
	}
	s.Restart(tb)
}

func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
