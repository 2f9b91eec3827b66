package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/tenant"
)

var tenantCommand = group{
	name:   "tenant",
	subs:   []string{"create", "list", "key", "keys", "revoke-key", "webhook-secret"},
	nested: map[string]func(context.Context, []string, io.Writer, io.Writer) error{"webhook-secret": webhookSecretCommand.run},
	flags:  tenantFlags,
}

// tenantFlags are the flags of the tenant subcommands, and what runs them.
func tenantFlags(fs *flag.FlagSet) action {
	var (
		name     = fs.String("name", "", "company name")
		timezone = fs.String("timezone", "", "IANA time zone, e.g. Europe/Berlin")
		currency = fs.String("currency", "", "ISO 4217 currency, e.g. EUR")
		asJSON   = fs.Bool("json", false, "print JSON")
		role     = fs.String("role", "", "admin, dispatcher, crew or integration")
		label    = fs.String("label", "", "what the key is for")
		crewID   = fs.String("crew", "", "with --role crew: bind the key to this crew (the scheduler's id)")
		keyID    = fs.Int64("key-id", 0, "id of the key to revoke")
	)
	return func(ctx context.Context, sub string, in invocation) error {
		svc := tenant.NewService(in.store, clock.System{})
		stdout := in.stdout
		switch sub {
		case "create":
			t, key, err := svc.Create(ctx, tenant.NewTenant{Name: *name, Timezone: *timezone, Currency: *currency})
			if err != nil {
				return err
			}
			if *asJSON {
				return json.NewEncoder(stdout).Encode(map[string]string{"tenant_id": t.ID, "api_key": key})
			}
			fmt.Fprintf(stdout, "tenant_id: %s\napi_key:   %s\n(the key is shown only now; store it safely)\n", t.ID, key)
		case "list":
			ts, err := svc.List(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tTIMEZONE\tCURRENCY")
			for _, t := range ts {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Timezone, t.Currency)
			}
			return w.Flush()
		case "key":
			key, k, err := issueKey(ctx, svc, in.tenantID, *role, *crewID, *label)
			if err != nil {
				return err
			}
			if *asJSON {
				out := map[string]any{"key_id": k.ID, "role": k.Role, "api_key": key}
				if k.Crew != "" {
					out["crew"] = k.Crew
				}
				return json.NewEncoder(stdout).Encode(out)
			}
			fmt.Fprintf(stdout, "key_id:  %d\nrole:    %s\n", k.ID, k.Role)
			if k.Crew != "" {
				fmt.Fprintf(stdout, "crew:    %s\n", k.Crew)
			}
			fmt.Fprintf(stdout, "api_key: %s\n(the key is shown only now)\n", key)
		case "keys":
			ks, err := svc.Keys(ctx, in.tenantID)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tROLE\tCREW\tPREFIX\tLABEL\tCREATED\tREVOKED")
			for _, k := range ks {
				revoked := ""
				if k.RevokedAt != nil {
					revoked = k.RevokedAt.Format("2006-01-02 15:04")
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s…\t%s\t%s\t%s\n", k.ID, k.Role, k.Crew, k.Prefix, k.Label, k.CreatedAt.Format("2006-01-02 15:04"), revoked)
			}
			return w.Flush()
		case "revoke-key":
			if err := svc.RevokeKey(ctx, in.tenantID, *keyID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "key %d revoked\n", *keyID)
		}
		return nil
	}
}

// issueKey issues a key of the role, bound to crew when one is named (crew
// keys only).
func issueKey(ctx context.Context, svc *tenant.Service, tenantID, role, crew, label string) (string, tenant.APIKey, error) {
	if crew == "" {
		return svc.IssueKey(ctx, tenantID, role, label)
	}
	if role != tenant.RoleCrew {
		return "", tenant.APIKey{}, fmt.Errorf("tenant key: --crew binds crew keys only; use it with --role crew, not --role %q", role)
	}
	return svc.IssueCrewKey(ctx, tenantID, crew, label)
}
