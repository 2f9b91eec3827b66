// Command appendsums appends to migrations/checksums.txt the SHA-256 of
// every migration file not yet listed there; `go generate ./migrations`
// runs it. It never rewrites a line: when a listed file has changed or is
// gone it says so and writes nothing, since a migration that has shipped is
// never edited, renamed or removed.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// manifest is the file, beside the dialects' directories, that records each
// migration's checksum, one "SUM  DIALECT/NAME.sql" line each: sha256sum's
// format, so `sha256sum -c checksums.txt` checks it too.
const manifest = "checksums.txt"

var dialects = []string{"postgres", "sqlite"}

func main() {
	added, err := appendSums(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "appendsums:", err)
		os.Exit(1)
	}
	for _, f := range added {
		fmt.Println("recorded", f)
	}
}

// appendSums appends the sums of the migration files under dir that the
// manifest does not list, by number and then dialect (a new migration's two
// files side by side), and returns their names.
func appendSums(dir string) ([]string, error) {
	listed, raw, err := readManifest(filepath.Join(dir, manifest))
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	for _, d := range dialects {
		names, err := fs.Glob(os.DirFS(dir), d+"/*.sql")
		if err != nil {
			return nil, err
		}
		for _, f := range names {
			body, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				return nil, err
			}
			sums[f] = sum(body)
		}
	}
	var added, problems []string
	for f, s := range sums {
		switch want, ok := listed[f]; {
		case !ok:
			added = append(added, f)
		case want != s:
			problems = append(problems, f+" has changed since its sum was recorded")
		}
	}
	for f := range listed {
		if _, ok := sums[f]; !ok {
			problems = append(problems, f+" is listed but gone")
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("%s: migrations are append-only; restore it (git checkout) and put the change in a new, "+
			"higher-numbered migration. Nothing was written", strings.Join(problems, "; "))
	}
	if len(added) == 0 {
		return nil, nil
	}
	sort.Slice(added, func(i, j int) bool {
		if a, b := filepath.Base(added[i]), filepath.Base(added[j]); a != b {
			return a < b
		}
		return added[i] < added[j]
	})
	var out bytes.Buffer
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		out.WriteByte('\n')
	}
	for _, f := range added {
		fmt.Fprintf(&out, "%s  %s\n", sums[f], f)
	}
	w, err := os.OpenFile(filepath.Join(dir, manifest), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		w.Close()
		return nil, err
	}
	return added, w.Close()
}

// readManifest returns the manifest's sums by file and its bytes; a missing
// manifest lists nothing.
func readManifest(name string) (map[string]string, []byte, error) {
	raw, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	listed := map[string]string{}
	if len(raw) == 0 {
		return listed, nil, nil
	}
	for n, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		s, f, ok := strings.Cut(line, "  ")
		if _, err := hex.DecodeString(s); !ok || err != nil || len(s) != 2*sha256.Size {
			return nil, nil, fmt.Errorf("%s line %d is not \"SHA256  DIALECT/NAME.sql\": %q", manifest, n+1, line)
		}
		if _, dup := listed[f]; dup {
			return nil, nil, fmt.Errorf("%s lists %s twice", manifest, f)
		}
		listed[f] = s
	}
	return listed, raw, nil
}

func sum(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:])
}
