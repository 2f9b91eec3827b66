package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestTenantCommands(t *testing.T) {
	dir := t.TempDir()
	out, err := runCmd(t, "tenant", "create", "--data-dir", dir, "--name", "Greenway", "--timezone", "Europe/Berlin", "--currency", "EUR", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var created struct {
		TenantID string `json:"tenant_id"`
		APIKey   string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &created); err != nil || created.TenantID == "" || !strings.HasPrefix(created.APIKey, "rl_") {
		t.Fatalf("create printed %q (%v)", out, err)
	}
	out, err = runCmd(t, "tenant", "key", "--data-dir", dir, "--tenant", created.TenantID, "--role", "dispatcher", "--json")
	if err != nil || !strings.Contains(out, `"role":"dispatcher"`) {
		t.Fatalf("key: %v %s", err, out)
	}
	out, err = runCmd(t, "tenant", "revoke-key", "--data-dir", dir, "--tenant", created.TenantID, "--key-id", "2")
	if err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %v %s", err, out)
	}
	out, err = runCmd(t, "tenant", "keys", "--data-dir", dir, "--tenant", created.TenantID)
	if err != nil || strings.Count(out, "\n") != 3 || !strings.Contains(out, "dispatcher") {
		t.Fatalf("keys: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "tenant", "create", "--data-dir", dir, "--name", "X", "--timezone", "Berlin", "--currency", "EUR"); err == nil || !strings.Contains(err.Error(), "timezone") {
		t.Fatalf("a bad zone: %v", err)
	}
	out, _ = runCmd(t, "tenant", "list", "--data-dir", dir)
	if strings.Count(out, "Greenway") != 1 || strings.Contains(out, "\nX ") {
		t.Fatalf("list: %s", out)
	}
}

func TestMigrateTwiceAndBadSettings(t *testing.T) {
	dir := t.TempDir()
	out, err := runCmd(t, "migrate", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "applied 0001_") {
		t.Fatalf("first migrate: %v %s", err, out)
	}
	out, err = runCmd(t, "migrate", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %v %s", err, out)
	}
	t.Setenv("ROUTELOOP_LOG_LEVEL", "chatty")
	if _, err := runCmd(t, "migrate", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "log_level") {
		t.Fatalf("bad log level: %v", err)
	}
	if _, err := runCmd(t, "serve", "--addr", "nowhere"); err == nil || !strings.Contains(err.Error(), "addr") {
		t.Fatalf("bad addr: %v", err)
	}
	if _, err := runCmd(t, "launch"); err == nil {
		t.Fatal("unknown command accepted")
	}
	if out, err := runCmd(t, "version"); err != nil || !strings.HasPrefix(out, "routeloop ") {
		t.Fatalf("version: %v %q", err, out)
	}
}

func TestServeStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0"}, pw, io.Discard)
	}()
	line := make([]byte, 200)
	n, _ := pr.Read(line)
	url := strings.TrimSpace(strings.TrimPrefix(string(line[:n]), "routeloop listening on "))
	go io.Copy(io.Discard, pr)
	resp, err := http.Get(url + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz at %s: %v", url, err)
	}
	resp.Body.Close()
	if out, err := runCmd(t, "healthcheck", "--addr", strings.TrimPrefix(url, "http://")); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("healthcheck: %v %s", err, out)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestReconcileCommand(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCmd(t, "tenant", "create", "--data-dir", dir, "--name", "G", "--timezone", "America/Los_Angeles", "--currency", "USD"); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, "reconcile", "--data-dir", dir, "--date", "2026-05-03")
	if err != nil || !strings.Contains(out, "2026-05-03: 0 visits, 0 customers, 0 invoices checked") {
		t.Fatalf("reconcile: %v %s", err, out)
	}
	if _, err := runCmd(t, "reconcile", "--data-dir", dir, "--date", "May 3"); err == nil || !strings.Contains(err.Error(), "--date") {
		t.Fatalf("bad date: %v", err)
	}
	if _, err := runCmd(t, "reconcile", "--data-dir", dir, "--date", "2026-05-03", "--tenant", "nope"); err == nil {
		t.Fatal("unknown tenant accepted")
	}
	// A range, day by day.
	out, err = runCmd(t, "reconcile", "--data-dir", dir, "--from", "2026-05-01", "--to", "2026-05-03")
	if err != nil || strings.Count(out, "0 visits") != 3 || !strings.Contains(out, "2026-05-02: 0 visits") {
		t.Fatalf("range: %v %s", err, out)
	}
	for _, bad := range [][]string{
		{"--from", "2026-05-03", "--to", "2026-05-01"},
		{"--date", "2026-05-03", "--from", "2026-05-01"},
		{"--from", "2024-01-01", "--to", "2026-05-01"},
		{},
	} {
		if _, err := runCmd(t, append([]string{"reconcile", "--data-dir", dir}, bad...)...); err == nil {
			t.Errorf("reconcile %v accepted", bad)
		}
	}
}
