package sqlstore

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseMigrationName(t *testing.T) {
	tests := []struct {
		file    string
		version int64
		name    string
		wantErr string
	}{
		{"0001_init.sql", 1, "init", ""},
		{"0042_add_index_2.sql", 42, "add_index_2", ""},
		{"12345_big.sql", 12345, "big", ""},
		{"001_short.sql", 0, "", "at least four digits"},
		{"0000_zero.sql", 0, "", "above 0"},
		{"0001_init.SQL", 0, "", "NNNN_name.sql"},
		{"0001init.sql", 0, "", "NNNN_name.sql"},
		{"0001_.sql", 0, "", "name"},
		{"0001_Init.sql", 0, "", "name"},
		{"0001_in-it.sql", 0, "", "name"},
		{"00a1_init.sql", 0, "", "four digits"},
		{"-001_init.sql", 0, "", "four digits"},
		{"99999999999999999999_huge.sql", 0, "", "above 0"},
		{"0001_init.sql.bak", 0, "", "NNNN_name.sql"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			v, name, err := ParseMigrationName(tc.file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseMigrationName(%q) = %d, %q, %v; want an error about %q", tc.file, v, name, err, tc.wantErr)
				}
				return
			}
			if err != nil || v != tc.version || name != tc.name {
				t.Fatalf("ParseMigrationName(%q) = %d, %q, %v; want %d, %q", tc.file, v, name, err, tc.version, tc.name)
			}
		})
	}
}

// FuzzParseMigrationName: a name either fails or gives a positive version and a name that format back
// to a file parsing the same.
func FuzzParseMigrationName(f *testing.F) {
	for _, s := range []string{"0001_init.sql", "00001_x.sql", "1_x.sql", "0001_.sql", "_.sql", ".sql", "0001_a_b.sql"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		v, name, err := ParseMigrationName(file)
		if err != nil {
			return
		}
		if v <= 0 || name == "" {
			t.Fatalf("ParseMigrationName(%q) = %d, %q without error", file, v, name)
		}
		canonical := fmt.Sprintf("%04d_%s.sql", v, name)
		v2, name2, err := ParseMigrationName(canonical)
		if err != nil || v2 != v || name2 != name {
			t.Fatalf("%q parsed as %d %q, but %q parses as %d %q (%v)", file, v, name, canonical, v2, name2, err)
		}
	})
}

func TestLoadMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"0002_second.sql": {Data: []byte("CREATE TABLE b (x INT);\r\n")},
		"0001_first.sql":  {Data: []byte("CREATE TABLE a (x INT);\n")},
		"README.md":       {Data: []byte("not a migration")},
	}
	ms, err := LoadMigrations(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[1].Version != 2 || ms[0].Name != "first" {
		t.Fatalf("migrations: %+v, want 0001_first then 0002_second", ms)
	}
	// CRLF and LF versions of a file have one checksum.
	lf, err := LoadMigrations(fstest.MapFS{"0002_second.sql": {Data: []byte("CREATE TABLE b (x INT);\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if lf[0].Checksum != ms[1].Checksum {
		t.Errorf("checksum of the CRLF file %s, of the LF file %s: want them equal", ms[1].Checksum, lf[0].Checksum)
	}

	bad := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"same version twice", fstest.MapFS{"0001_a.sql": {}, "00001_b.sql": {}}, "both have version 1"},
		{"bad name", fstest.MapFS{"init.sql": {}}, "NNNN_name.sql"},
	}
	for _, tc := range bad {
		if _, err := LoadMigrations(tc.fsys); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

// TestEmbeddedMigrations: the built-in migrations load, numbered 1, 2, ... without gaps.
func TestEmbeddedMigrations(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no embedded migrations")
	}
	for i, m := range ms {
		if m.Version != int64(i+1) {
			t.Fatalf("migration %d has version %d: want versions 1, 2, ... without gaps", i, m.Version)
		}
	}
}
