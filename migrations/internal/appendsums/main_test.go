package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A new migration's sums are appended after the old lines, which stay as
// they were; a changed or removed migration is refused and nothing written.
func TestNewMigrationsAreAppendedAndOldOnesNeverRewritten(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "postgres/0001_foundation.sql", "CREATE TABLE tenants (id UUID PRIMARY KEY);\n")
	write(t, dir, "sqlite/0001_foundation.sql", "CREATE TABLE tenants (id TEXT PRIMARY KEY);\n")
	added, err := appendSums(dir)
	if err != nil || strings.Join(added, " ") != "postgres/0001_foundation.sql sqlite/0001_foundation.sql" {
		t.Fatalf("first run: %v, %v", added, err)
	}
	first := readFile(t, filepath.Join(dir, manifest))
	if want := sum([]byte("CREATE TABLE tenants (id UUID PRIMARY KEY);\n")) + "  postgres/0001_foundation.sql\n"; !strings.HasPrefix(first, want) {
		t.Fatalf("manifest:\n%s\nwant it to start with %q", first, want)
	}

	write(t, dir, "sqlite/0002_crews.sql", "CREATE TABLE crews (id INTEGER PRIMARY KEY);\n")
	write(t, dir, "postgres/0002_crews.sql", "CREATE TABLE crews (id BIGSERIAL PRIMARY KEY);\n")
	added, err = appendSums(dir)
	if err != nil || strings.Join(added, " ") != "postgres/0002_crews.sql sqlite/0002_crews.sql" {
		t.Fatalf("second run: %v, %v", added, err)
	}
	second := readFile(t, filepath.Join(dir, manifest))
	if !strings.HasPrefix(second, first) || strings.Count(second, "\n") != 4 {
		t.Fatalf("the old lines were not kept as they were:\n%s", second)
	}
	if added, err := appendSums(dir); err != nil || len(added) != 0 {
		t.Fatalf("nothing new: %v, %v", added, err)
	}

	write(t, dir, "postgres/0001_foundation.sql", "CREATE TABLE tenants (id UUID PRIMARY KEY, name TEXT);\n")
	write(t, dir, "postgres/0003_users.sql", "CREATE TABLE users (id BIGSERIAL PRIMARY KEY);\n")
	if _, err := appendSums(dir); err == nil || !strings.Contains(err.Error(), "postgres/0001_foundation.sql has changed") ||
		!strings.Contains(err.Error(), "append-only") {
		t.Fatalf("an edited migration: %v", err)
	}
	if got := readFile(t, filepath.Join(dir, manifest)); got != second {
		t.Fatalf("the manifest was written although a migration changed:\n%s", got)
	}

	write(t, dir, "postgres/0001_foundation.sql", "CREATE TABLE tenants (id UUID PRIMARY KEY);\n")
	if err := os.Remove(filepath.Join(dir, "sqlite/0002_crews.sql")); err != nil {
		t.Fatal(err)
	}
	if _, err := appendSums(dir); err == nil || !strings.Contains(err.Error(), "sqlite/0002_crews.sql is listed but gone") {
		t.Fatalf("a removed migration: %v", err)
	}
	if got := readFile(t, filepath.Join(dir, manifest)); got != second {
		t.Fatalf("the manifest was written although a migration is gone:\n%s", got)
	}
}

func TestAMalformedManifestIsRefused(t *testing.T) {
	for _, body := range []string{"not a sum  postgres/0001_a.sql\n", strings.Repeat("a", 64) + " postgres/0001_a.sql\n",
		strings.Repeat("a", 64) + "  postgres/0001_a.sql\n" + strings.Repeat("b", 64) + "  postgres/0001_a.sql\n"} {
		dir := t.TempDir()
		write(t, dir, manifest, body)
		write(t, dir, "postgres/0001_a.sql", "SELECT 1;\n")
		if _, err := appendSums(dir); err == nil {
			t.Errorf("manifest %q accepted", body)
		}
		if got := readFile(t, filepath.Join(dir, manifest)); got != body {
			t.Errorf("manifest %q rewritten to %q", body, got)
		}
	}
}
