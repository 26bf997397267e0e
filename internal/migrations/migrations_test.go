package migrations

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadOrdersByVersion(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"m/0010_ten.sql":  {Data: []byte("SELECT 10")},
		"m/0002_two.sql":  {Data: []byte("SELECT 2")},
		"m/0001_init.sql": {Data: []byte("SELECT 1")},
		"m/README":        {Data: []byte("not a migration")},
	}
	ms, err := Load(fsys, "m/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	want := []Migration{
		{Version: 1, Name: "0001_init.sql", SQL: "SELECT 1"},
		{Version: 2, Name: "0002_two.sql", SQL: "SELECT 2"},
		{Version: 10, Name: "0010_ten.sql", SQL: "SELECT 10"},
	}
	if len(ms) != len(want) {
		t.Fatalf("got %d migrations, want %d: %+v", len(ms), len(want), ms)
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Errorf("migration %d = %+v, want %+v", i, ms[i], want[i])
		}
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{"m/init.sql"}, "migration init.sql: name must start"},
		{[]string{"m/0001.sql"}, "migration 0001.sql: name must start"},
		{[]string{"m/0000_zero.sql"}, "migration 0000_zero.sql: name must start"},
		{[]string{"m/-1_neg.sql"}, "migration -1_neg.sql: name must start"},
		{[]string{"m/0001_a.sql", "m/1_b.sql"}, "migrations 0001_a.sql and 1_b.sql share a version"},
	} {
		fsys := fstest.MapFS{}
		for _, f := range tc.files {
			fsys[f] = &fstest.MapFile{Data: []byte("SELECT 1")}
		}
		_, err := Load(fsys, "m/*.sql")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%v) = %v, want an error containing %q", tc.files, err, tc.want)
		}
	}
}
