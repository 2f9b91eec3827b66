package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tenant, user and webhook-secret commands refuse an unknown
// subcommand, and a missing --tenant where every subcommand needs one,
// before they open (and so create) the database.
func TestGroupsRefuseBeforeOpeningTheDatabase(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"tenant", "rename"}, `tenant: unknown subcommand "rename"`},
		{[]string{"user", "rename"}, `user: unknown subcommand "rename"`},
		{[]string{"tenant", "webhook-secret", "rotate"}, `tenant webhook-secret: unknown subcommand "rotate"`},
		{[]string{"user", "list"}, "user list: --tenant is required"},
		{[]string{"tenant", "webhook-secret", "list"}, "tenant webhook-secret list: --tenant is required"},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		out, err := runCmd(t, append(c.args, "--data-dir", dir)...)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%v: %v, want an error saying %q\n%s", c.args, err, c.says, out)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%v opened the database", c.args)
		}
	}
}
