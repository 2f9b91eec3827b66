package migrations

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
)

const appendOnly = "migrations are append-only: a migration that has shipped is never edited, renamed or removed. " +
	"Restore it (git checkout) and put the change in a new, higher-numbered file in both postgres/ and sqlite/, " +
	"then run `go generate ./migrations` to append the new files' sums to migrations/checksums.txt"

// Every embedded migration is in checksums.txt with the sum of what it was
// when it was recorded, and every file recorded there is still embedded.
func TestMigrationsMatchTheirRecordedChecksums(t *testing.T) {
	raw, err := os.ReadFile("checksums.txt")
	if err != nil {
		t.Fatalf("read the manifest: %v (%s)", err, appendOnly)
	}
	recorded := map[string]string{}
	for n, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		sum, file, ok := strings.Cut(line, "  ")
		if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 2*sha256.Size {
			t.Fatalf("checksums.txt line %d is not \"SHA256  DIALECT/NAME.sql\": %q", n+1, line)
		}
		if _, dup := recorded[file]; dup {
			t.Fatalf("checksums.txt lists %s twice", file)
		}
		recorded[file] = sum
	}
	embedded := 0
	err = fs.WalkDir(FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		embedded++
		body, err := fs.ReadFile(FS, name)
		if err != nil {
			return err
		}
		s := sha256.Sum256(body)
		switch want, ok := recorded[name]; {
		case !ok:
			t.Errorf("%s is not in checksums.txt: run `go generate ./migrations` to append its sum (existing lines are never rewritten)", name)
		case want != hex.EncodeToString(s[:]):
			t.Errorf("%s has changed since it was recorded in checksums.txt; %s", name, appendOnly)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range recorded {
		if _, err := fs.Stat(FS, name); err != nil {
			t.Errorf("%s is in checksums.txt but no longer a migration; %s", name, appendOnly)
		}
	}
	if embedded == 0 {
		t.Error("no migration files embedded")
	}
}

// Each migration is written for both databases, under the same name.
func TestEveryMigrationExistsForBothDatabases(t *testing.T) {
	names := map[string][]string{}
	for _, dialect := range []string{"postgres", "sqlite"} {
		files, err := fs.Glob(FS, dialect+"/*.sql")
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v %v", dialect, files, err)
		}
		for _, f := range files {
			names[path.Base(f)] = append(names[path.Base(f)], dialect)
		}
	}
	for name, in := range names {
		if len(in) != 2 {
			t.Errorf("migration %s exists only for %s: a schema change is one file per database, with the same name", name, in[0])
		}
	}
}
