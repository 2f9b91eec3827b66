package main

import (
	"strings"
	"testing"
)

// Every command and subcommand answers --help (and -h) with its usage and
// exit status 0, and a command needing a subcommand shows its usage and
// fails without one.
func TestEveryCommandAnswersHelp(t *testing.T) {
	commands := [][]string{
		{"serve"}, {"demo"}, {"migrate"}, {"import"}, {"reconcile"}, {"healthcheck"}, {"version"},
		{"tenant"}, {"tenant", "create"}, {"tenant", "list"}, {"tenant", "key"}, {"tenant", "keys"}, {"tenant", "revoke-key"},
		{"tenant", "webhook-secret"}, {"tenant", "webhook-secret", "create"}, {"tenant", "webhook-secret", "list"},
		{"tenant", "webhook-secret", "revoke"},
		{"user"}, {"user", "create"}, {"user", "list"}, {"user", "disable"},
	}
	for _, cmd := range commands {
		for _, flag := range []string{"--help", "-h"} {
			name := strings.Join(cmd, " ")
			t.Run(name+" "+flag, func(t *testing.T) {
				out, err := runCmd(t, append(append([]string{}, cmd...), flag)...)
				if code := exitCode(err); code != 0 {
					t.Fatalf("exit %d (%v): %s", code, err, out)
				}
				if !strings.Contains(out, "routeloop "+name) {
					t.Errorf("the usage does not name %q:\n%s", "routeloop "+name, out)
				}
			})
		}
	}
	for _, cmd := range []string{"tenant", "user"} {
		out, err := runCmd(t, cmd)
		if exitCode(err) != 1 || !strings.Contains(out, "routeloop "+cmd+" create") {
			t.Errorf("%s without a subcommand: exit %d, %q", cmd, exitCode(err), out)
		}
	}
	if _, err := runCmd(t, "launch"); exitCode(err) != 1 {
		t.Error("an unknown command exits 0")
	}
}
