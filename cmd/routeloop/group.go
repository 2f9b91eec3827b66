package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/routeloop/routeloop/internal/store"
)

// group is a command made of subcommands that work on the stored data
// (tenant, user, tenant webhook-secret). What they share is done once, by
// run: answer --help, pick the subcommand, read its flags and the
// settings, check --tenant, and open the database with its schema up to
// date.
type group struct {
	name string   // as typed: "tenant webhook-secret"
	subs []string // the subcommands, in the usage's order
	// nested are subcommands that are groups of their own.
	nested map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	// tenantRequired: every subcommand works on the tenant --tenant names.
	tenantRequired bool
	// flags adds the group's flags, which all its subcommands take, and
	// returns what runs a subcommand once they are read.
	flags func(fs *flag.FlagSet) action
}

// action runs one subcommand of a group on the open store.
type action func(ctx context.Context, sub string, in invocation) error

// invocation is what a subcommand works with.
type invocation struct {
	store    *store.Store
	tenantID string // --tenant
	stdout   io.Writer
}

func (g group) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if helpAsked(args) {
		fmt.Fprint(stdout, usageOf(g.name))
		return nil
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usageOf(g.name))
		return fmt.Errorf("%s: name a subcommand: %s", g.name, strings.Join(g.subs, ", "))
	}
	sub, args := args[0], args[1:]
	if nested, ok := g.nested[sub]; ok {
		return nested(ctx, args, stdout, stderr)
	}
	if !slices.Contains(g.subs, sub) {
		return fmt.Errorf("%s: unknown subcommand %q", g.name, sub)
	}
	sf := newFlags(g.name+" "+sub, stdout, stderr, "data_dir", "database_url")
	help := "tenant id"
	if g.tenantRequired {
		help += " (required)"
	}
	tenantID := sf.fs.String("tenant", "", help)
	act := g.flags(sf.fs)
	if err := sf.parse(args); err != nil {
		return err
	}
	if g.tenantRequired && *tenantID == "" {
		return fmt.Errorf("%s %s: --tenant is required", g.name, sub)
	}
	s, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	return act(ctx, sub, invocation{store: s, tenantID: *tenantID, stdout: stdout})
}
