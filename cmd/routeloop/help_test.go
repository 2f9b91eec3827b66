package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// helpCommands are every command and subcommand routeloop dispatches.
var helpCommands = [][]string{
	{"serve"}, {"demo"}, {"migrate"}, {"import"}, {"reconcile"}, {"healthcheck"}, {"version"},
	{"tenant"}, {"tenant", "create"}, {"tenant", "list"}, {"tenant", "key"}, {"tenant", "keys"}, {"tenant", "revoke-key"},
	{"tenant", "webhook-secret"}, {"tenant", "webhook-secret", "create"}, {"tenant", "webhook-secret", "list"},
	{"tenant", "webhook-secret", "revoke"},
	{"user"}, {"user", "create"}, {"user", "list"}, {"user", "disable"},
}

// Every command and subcommand answers --help (and -h) on stdout with its
// usage and exit status 0, without touching the database, and a command
// needing a subcommand shows its usage and fails without one.
func TestEveryCommandAnswersHelp(t *testing.T) {
	for _, cmd := range helpCommands {
		for _, flag := range []string{"--help", "-h"} {
			name := strings.Join(cmd, " ")
			t.Run(name+" "+flag, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "data")
				t.Setenv("ROUTELOOP_DATA_DIR", dir)
				var stdout, stderr bytes.Buffer
				err := run(context.Background(), append(slices.Clone(cmd), flag), &stdout, &stderr)
				if code := exitCode(err); code != 0 {
					t.Fatalf("exit %d (%v): %s%s", code, err, stdout.String(), stderr.String())
				}
				out := stdout.String()
				if !strings.Contains(out, "Usage:\n  routeloop "+name) {
					t.Errorf("the usage on stdout does not name %q:\n%s", "routeloop "+name, out)
				}
				if !strings.Contains(out, "Settings come from") {
					t.Errorf("the usage does not say where settings come from:\n%s", out)
				}
				if stderr.Len() != 0 {
					t.Errorf("--help wrote to stderr: %s", stderr.String())
				}
				if _, err := os.Stat(dir); err == nil {
					t.Error("--help opened the database")
				}
			})
		}
	}
	for _, cmd := range []string{"tenant", "user", "tenant webhook-secret"} {
		out, err := runCmd(t, strings.Fields(cmd)...)
		if exitCode(err) != 1 || !strings.Contains(out, "routeloop "+cmd+" create") {
			t.Errorf("%s without a subcommand: exit %d, %q", cmd, exitCode(err), out)
		}
	}
	if _, err := runCmd(t, "launch"); exitCode(err) != 1 {
		t.Error("an unknown command exits 0")
	}
}

// A subcommand's help lists its flags; a bad flag shows the usage on stderr
// and fails.
func TestASubcommandsHelpListsItsFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"tenant", "key", "--help"}, &stdout, &stderr); exitCode(err) != 0 {
		t.Fatal(err)
	}
	for _, f := range []string{"-tenant", "-role", "-crew", "-label", "-json", "-data-dir", "-database-url", "-config"} {
		if !strings.Contains(stdout.String(), "  "+f+" ") && !strings.Contains(stdout.String(), "  "+f+"\n") {
			t.Errorf("tenant key --help does not list %s:\n%s", f, stdout.String())
		}
	}
	stdout.Reset()
	err := run(context.Background(), []string{"user", "list", "--tenant", "t", "--colour"}, &stdout, &stderr)
	if exitCode(err) != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "Usage:\n  routeloop user list") {
		t.Fatalf("a bad flag: exit %d, stdout %q, stderr %q", exitCode(err), stdout.String(), stderr.String())
	}
}

// The table above is every command of the usage: a command added there is
// checked here too.
func TestTheHelpTableCoversTheUsage(t *testing.T) {
	names := map[string]bool{}
	for _, cmd := range helpCommands {
		names[strings.Join(cmd, " ")] = true
	}
	for _, line := range strings.Split(usage, "\n") {
		rest, ok := strings.CutPrefix(line, "  routeloop ")
		if !ok {
			continue
		}
		var words []string
		for _, w := range strings.Fields(rest) {
			if strings.HasPrefix(w, "-") || strings.HasPrefix(w, "[") {
				break
			}
			words = append(words, w)
		}
		for i := range words {
			if name := strings.Join(words[:i+1], " "); !names[name] {
				t.Errorf("%q is in the usage but not in helpCommands", name)
			}
		}
	}
}
