package state

import (
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// Compact rewrites the database when its file is larger than threshold
// bytes and mostly (more than half) free pages. It is for the flusher,
// never the hook.
//
// It needs the exclusive lock this Store holds: no other process can
// have the file open while it copies the live data into
// ccotel.db.compact-tmp (bbolt.Compact), syncs that file, renames it over
// ccotel.db and reopens. Processes waiting for the lock open the new file.
// If anything fails before the rename, the old database is untouched.
func (s *Store) Compact(threshold int64) (err error) {
	if s.opts.ReadOnly {
		return errReadOnly
	}
	if s.db == nil {
		return s.err
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("state: compact: %w", err)
	}
	if fi.Size() <= threshold {
		return nil
	}
	st := s.db.Stats()
	pageSize := int64(s.db.Info().PageSize)
	if pageSize <= 0 || int64(st.FreePageN+st.PendingPageN)*pageSize*2 < fi.Size() {
		return nil
	}

	tmp := s.path + compactSuffix
	os.Remove(tmp)
	err = s.guard(func() error {
		dst, err := bolt.Open(tmp, 0o600, boltOptions(Options{}, false))
		if err != nil {
			return err
		}
		if err := bolt.Compact(dst, s.db, 4<<20); err != nil {
			dst.Close()
			return err
		}
		if err := dst.Sync(); err != nil {
			dst.Close()
			return err
		}
		return dst.Close()
	})
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("state: compact: %w", err)
	}
	if s.db == nil { // quarantined by guard
		os.Remove(tmp)
		return s.err
	}
	if err := s.db.Close(); err != nil {
		s.db, s.file = nil, nil
		s.err = fmt.Errorf("state: compact: close: %w", err)
		os.Remove(tmp)
		return s.err
	}
	s.db, s.file = nil, nil
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		s.err = fmt.Errorf("state: compact: %w", err)
		if rerr := s.openDB(); rerr != nil {
			s.err = rerr
		}
		return fmt.Errorf("state: compact: %w", err)
	}
	syncDir(s.dir)
	if err := s.openDB(); err != nil {
		s.err = err
		return err
	}
	Logf(s.dir, "compacted %s: %d bytes before, %d free pages", s.path, fi.Size(), st.FreePageN+st.PendingPageN)
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
