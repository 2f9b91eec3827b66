package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestATenantKeyBoundToACrew(t *testing.T) {
	dir := t.TempDir()
	tenantID := newTenant(t, dir)
	crews := filepath.Join(t.TempDir(), "crews.csv")
	if err := os.WriteFile(crews, []byte("external_id,name,depot_lat,depot_lon,member_id,member_name\nnorth,North,45.5,-122.6,m1,Marisol Vega\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, "import", "--data-dir", dir, "--tenant", tenantID, "--file", crews); err != nil {
		t.Fatalf("import crews: %v\n%s", err, out)
	}
	for _, bad := range []struct {
		args []string
		says string
	}{
		{[]string{"--role", "crew", "--crew", "south"}, "no crew"},
		{[]string{"--role", "dispatcher", "--crew", "north"}, "--role crew"},
		{[]string{"--role", "admin", "--crew", "north"}, "--role crew"},
	} {
		args := append([]string{"tenant", "key", "--data-dir", dir, "--tenant", tenantID}, bad.args...)
		if out, err := runCmd(t, args...); err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("%v: %v, want an error saying %q\n%s", bad.args, err, bad.says, out)
		}
	}
	out, err := runCmd(t, "tenant", "key", "--data-dir", dir, "--tenant", tenantID, "--role", "crew", "--crew", "north", "--label", "north tablet", "--json")
	if err != nil || !strings.Contains(out, `"crew":"north"`) || !strings.Contains(out, `"role":"crew"`) {
		t.Fatalf("bound key: %v %s", err, out)
	}
	out, err = runCmd(t, "tenant", "key", "--data-dir", dir, "--tenant", tenantID, "--role", "crew", "--crew", "north")
	if err != nil || !strings.Contains(out, "crew:    north") {
		t.Fatalf("bound key (text): %v %s", err, out)
	}
	out, err = runCmd(t, "tenant", "keys", "--data-dir", dir, "--tenant", tenantID)
	if err != nil || strings.Count(out, "\n") != 4 || !strings.Contains(out, "CREW") || strings.Count(out, "north") != 3 {
		t.Fatalf("keys (admin and two bound, the refused ones not stored): %v\n%s", err, out)
	}
}
