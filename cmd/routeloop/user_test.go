package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	out, err := runCmd(t, "tenant", "create", "--data-dir", dir, "--name", "Greenway", "--timezone", "America/Los_Angeles", "--currency", "USD", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var tn struct {
		TenantID string `json:"tenant_id"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &tn); err != nil {
		t.Fatal(err, out)
	}

	// Without --password one is generated and shown once.
	out, err = runCmd(t, "user", "create", "--data-dir", dir, "--tenant", tn.TenantID, "--email", "Dana@Example.com", "--role", "dispatcher")
	if err != nil || !strings.Contains(out, "email:    dana@example.com") || !strings.Contains(out, "password: ") || !strings.Contains(out, "shown only now") {
		t.Fatalf("create: %v\n%s", err, out)
	}
	// With --password it is not printed.
	out, err = runCmd(t, "user", "create", "--data-dir", dir, "--tenant", tn.TenantID, "--email", "ed@example.com", "--role", "admin",
		"--password", "a long admin password", "--json")
	if err != nil || strings.Contains(out, "a long admin password") || !strings.Contains(out, `"role":"admin"`) {
		t.Fatalf("create with password: %v\n%s", err, out)
	}
	for _, bad := range [][]string{
		{"--email", "dana@example.com", "--role", "crew"},                     // taken
		{"--email", "x@example.com", "--role", "integration"},                 // not a person's role
		{"--email", "x@example.com", "--role", "crew", "--crew-member", "m9"}, // no such crew member
		{"--email", "x@example.com", "--role", "crew", "--password", "short"}, // too short
	} {
		args := append([]string{"user", "create", "--data-dir", dir, "--tenant", tn.TenantID}, bad...)
		if out, err := runCmd(t, args...); err == nil {
			t.Errorf("%v accepted:\n%s", bad, out)
		}
	}
	// A crew login acts as a crew member, named by external id.
	crews := filepath.Join(t.TempDir(), "crews.csv")
	if err := os.WriteFile(crews, []byte("external_id,name,depot_lat,depot_lon,member_id,member_name\ncrew-a,North,45.5,-122.6,m1,Marisol Vega\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, "import", "--data-dir", dir, "--tenant", tn.TenantID, "--file", crews); err != nil {
		t.Fatalf("import crews: %v\n%s", err, out)
	}
	out, err = runCmd(t, "user", "create", "--data-dir", dir, "--tenant", tn.TenantID, "--email", "marisol@example.com", "--role", "crew",
		"--crew-member", "m1", "--password", "marisol's password")
	if err != nil {
		t.Fatalf("create crew login: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "user", "list", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "--tenant") {
		t.Fatalf("list without tenant: %v", err)
	}

	out, err = runCmd(t, "user", "disable", "--data-dir", dir, "--tenant", tn.TenantID, "--email", "DANA@example.com")
	if err != nil || !strings.Contains(out, "dana@example.com disabled") {
		t.Fatalf("disable: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "user", "disable", "--data-dir", dir, "--tenant", tn.TenantID, "--email", "nobody@example.com"); err == nil {
		t.Fatal("disabling an unknown user succeeded")
	}

	out, err = runCmd(t, "user", "list", "--data-dir", dir, "--tenant", tn.TenantID)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "dana@example.com") ||
		!strings.Contains(lines[1], "dispatcher") || !strings.Contains(lines[2], "ed@example.com") ||
		strings.Join(strings.Fields(lines[3])[1:4], " ") != "marisol@example.com crew m1" {
		t.Fatalf("list: %v\n%s", err, out)
	}
	// Dana's row has a disabled date; Ed's does not.
	if len(strings.Fields(lines[1])) != len(strings.Fields(lines[2]))+2 {
		t.Fatalf("disabled column:\n%s", out)
	}
	if strings.Contains(out, "$2") {
		t.Fatal("list shows a password hash")
	}
	if _, err := runCmd(t, "user", "rename", "--data-dir", dir, "--tenant", tn.TenantID); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
}
