package sqlitestore_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/sqlitestore"
)

// TestNewDatabaseIsPrivate: a database file Open creates, and the WAL files SQLite makes
// beside it (which take its mode), are readable by their owner only: they hold password
// hashes, addresses and session data. Open created it with the process's umask, 0644
// under the usual 022, so any local account could copy every password hash. A file the
// operator made keeps the mode they gave it.
func TestNewDatabaseIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	t.Parallel()
	tests := []struct {
		name     string
		existing os.FileMode // 0: Open creates the file
		want     os.FileMode
	}{
		{"new file", 0, 0o600},
		{"the operator's file", 0o640, 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "restauth.db")
			if tt.existing != 0 {
				require.NoError(t, os.WriteFile(path, nil, tt.existing))
				require.NoError(t, os.Chmod(path, tt.existing)) // whatever the umask
			}
			s, err := sqlitestore.Open(t.Context(), path)
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, s.Close()) })
			require.NoError(t, s.CreateUser(t.Context(), &restauth.User{Username: "ada"}, nil))
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(f)
				require.NoError(t, err)
				assert.Equal(t, tt.want, fi.Mode().Perm(), "%s", filepath.Base(f))
			}
		})
	}
}
