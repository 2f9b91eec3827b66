package migrations

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
)

var addNew = flag.Bool("add-new", false, "append the SHA-256 of migration files not yet in checksums.txt (never rewrites a line)")

// manifest is checksums.txt: one "dialect/file.sql sha256" line per
// migration that has shipped.
const manifest = "checksums.txt"

// A migration that has shipped is never edited: a database that applied it
// would not see the change. checksums.txt holds every migration file's
// SHA-256; a file that no longer matches its line, a line whose file is
// gone, or a new file without a line fails here. A new migration gets its
// line with
//
//	go test ./migrations -run TestShippedMigrationsAreUnchanged -args -add-new
func TestShippedMigrationsAreUnchanged(t *testing.T) {
	raw, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatalf("read %s: %v", manifest, err)
	}
	want := map[string]string{}
	for n, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		name, sum, ok := strings.Cut(line, " ")
		if !ok || len(sum) != 64 {
			t.Fatalf("%s line %d is not \"dialect/file.sql sha256\": %q", manifest, n+1, line)
		}
		want[name] = sum
	}
	files, err := fs.Glob(FS, "*/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 48 {
		t.Fatalf("only %d migration files embedded: the pattern is wrong", len(files))
	}
	var added []string
	for _, f := range files {
		body, err := FS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(body)
		got := hex.EncodeToString(h[:])
		switch sum, ok := want[f]; {
		case !ok && *addNew:
			added = append(added, f+" "+got)
		case !ok:
			t.Errorf("%s is not in %s: a new migration gets its line with\n  go test ./migrations -run TestShippedMigrationsAreUnchanged -args -add-new", f, manifest)
		case sum != got:
			t.Errorf("%s changed after it shipped (sha256 %s, was %s): migrations are append-only; undo the edit and write a new, higher-numbered migration instead", f, got, sum)
		}
	}
	for name := range want {
		if !slices.Contains(files, name) {
			t.Errorf("%s is in %s but gone: a shipped migration is never removed", name, manifest)
		}
	}
	if len(added) > 0 {
		out, err := os.OpenFile(manifest, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		if _, err := out.WriteString(strings.Join(added, "\n") + "\n"); err != nil {
			t.Fatal(err)
		}
		t.Logf("added to %s:\n%s", manifest, strings.Join(added, "\n"))
	}
}
