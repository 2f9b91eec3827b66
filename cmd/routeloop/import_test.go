package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newTenant(t *testing.T, dir string) string {
	t.Helper()
	out, err := runCmd(t, "tenant", "create", "--data-dir", dir, "--name", "Greenway", "--timezone", "America/Los_Angeles", "--currency", "USD", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var created struct {
		TenantID string `json:"tenant_id"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &created); err != nil {
		t.Fatal(err, out)
	}
	return created.TenantID
}

func TestWebhookSecretCommands(t *testing.T) {
	dir := t.TempDir()
	id := newTenant(t, dir)
	out, err := runCmd(t, "tenant", "webhook-secret", "create", "--data-dir", dir, "--tenant", id, "--json")
	var created struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	if err != nil || json.Unmarshal([]byte(strings.TrimSpace(out)), &created) != nil || created.ID != 1 || !strings.HasPrefix(created.Secret, "whsec_") {
		t.Fatalf("create --json: %v %q", err, out)
	}
	out, err = runCmd(t, "tenant", "webhook-secret", "create", "--data-dir", dir, "--tenant", id)
	if err != nil || !strings.Contains(out, "secret: whsec_") || !strings.Contains(out, "/hooks/v1/"+id) {
		t.Fatalf("create: %v %s", err, out)
	}
	if out, err = runCmd(t, "tenant", "webhook-secret", "revoke", "--data-dir", dir, "--tenant", id, "--id", "1"); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %v %s", err, out)
	}
	out, err = runCmd(t, "tenant", "webhook-secret", "list", "--data-dir", dir, "--tenant", id)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 3 || strings.Contains(out, created.Secret) || !strings.Contains(lines[1], created.Secret[:10]) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if strings.Count(lines[1], ":") != 2 || strings.Count(lines[2], ":") != 1 { // only the first shows a revoked time
		t.Fatalf("revoked column: %s", out)
	}
	if _, err := runCmd(t, "tenant", "webhook-secret", "revoke", "--data-dir", dir, "--tenant", id, "--id", "9"); err == nil {
		t.Fatal("revoking an unknown secret succeeded")
	}
	if _, err := runCmd(t, "tenant", "webhook-secret", "create", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "--tenant") {
		t.Fatalf("no tenant: %v", err)
	}
}

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	id := newTenant(t, dir)
	files := t.TempDir()
	customers := filepath.Join(files, "customers.csv")
	if err := os.WriteFile(customers, []byte("external_id,name,email,lat,lon,consent_same_day\n"+
		"angie,Angie Baker,angie@example.com,45.4655,-122.6501,true\n"+
		"ben,Ben Cho,,45.4662,-122.6499,false\n"+
		"dot,,,,,\n"+
		"ed,Ed,,200,0,false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, "import", "--data-dir", dir, "--tenant", id, "--file", customers)
	if err == nil || !strings.Contains(err.Error(), "2 of 4 customers failed") || !strings.Contains(err.Error(), `row 4 (external_id "dot"): name: must not be empty`) ||
		!strings.Contains(err.Error(), `row 5 (external_id "ed"): lat:`) {
		t.Fatalf("import with bad rows: %v\n%s", err, out)
	}
	if !strings.Contains(out, "customers.csv: 4 rows, 4 customers: 2 created, 0 updated, 0 unchanged (older than stored), 2 failed") ||
		!strings.Contains(out, "customers.csv: 4/4 rows") {
		t.Fatalf("summary: %s", out)
	}

	visits := filepath.Join(files, "export.csv")
	if err := os.WriteFile(visits, []byte("external_id,customer_id,service_date,price_cents\nv1,angie,2026-05-05,4500\nv2,ben,2026-05-05,3900\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, "import", "--data-dir", dir, "--tenant", id, "--file", visits); err == nil || !strings.Contains(err.Error(), "--type") {
		t.Fatalf("a file name that does not tell: %v", err)
	}
	out, err = runCmd(t, "import", "--data-dir", dir, "--tenant", id, "--file", visits, "--type", "visits")
	if err != nil || !strings.Contains(out, "2 created") {
		t.Fatalf("visits: %v %s", err, out)
	}
	// Loading the same file again changes nothing new.
	out, err = runCmd(t, "import", "--data-dir", dir, "--tenant", id, "--file", customers)
	if !strings.Contains(out, "0 created, 2 updated") || err == nil {
		t.Fatalf("again: %v %s", err, out)
	}
	if _, err := runCmd(t, "import", "--data-dir", dir, "--tenant", id, "--file", filepath.Join(files, "nope.csv"), "--type", "customers"); err == nil {
		t.Fatal("a missing file imported")
	}
}
