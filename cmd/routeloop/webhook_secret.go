package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/webhook"
)

// webhookSecretCommand manages a tenant's inbound webhook signing secrets.
var webhookSecretCommand = group{
	name:           "tenant webhook-secret",
	subs:           []string{"create", "list", "revoke"},
	tenantRequired: true,
	flags:          webhookSecretFlags,
}

// webhookSecretFlags are the flags of the webhook-secret subcommands, and
// what runs them.
func webhookSecretFlags(fs *flag.FlagSet) action {
	var (
		id     = fs.Int64("id", 0, "id of the secret to revoke")
		asJSON = fs.Bool("json", false, "print JSON")
	)
	return func(ctx context.Context, sub string, in invocation) error {
		svc := webhook.NewService(in.store, clock.System{}, nil, nil)
		stdout := in.stdout
		switch sub {
		case "create":
			k, plain, err := svc.CreateSecret(ctx, in.tenantID)
			if err != nil {
				return err
			}
			if *asJSON {
				return json.NewEncoder(stdout).Encode(map[string]any{"id": k.ID, "secret": plain})
			}
			fmt.Fprintf(stdout, "id:     %d\nsecret: %s\n(the secret is shown only now; give it to the scheduler that signs webhooks to /hooks/v1/%s)\n",
				k.ID, plain, in.tenantID)
		case "list":
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tPREFIX\tCREATED\tREVOKED")
			p := store.Page{Limit: store.MaxLimit}
			for {
				ks, next, err := svc.Secrets(ctx, in.tenantID, p)
				if err != nil {
					return err
				}
				for _, k := range ks {
					revoked := ""
					if k.RevokedAt != nil {
						revoked = k.RevokedAt.Format("2006-01-02 15:04")
					}
					fmt.Fprintf(w, "%d\t%s…\t%s\t%s\n", k.ID, k.Prefix, k.CreatedAt.Format("2006-01-02 15:04"), revoked)
					p.After = k.ID
				}
				if next == "" {
					break
				}
			}
			return w.Flush()
		case "revoke":
			if _, err := svc.RevokeSecret(ctx, in.tenantID, *id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "webhook secret %d revoked (other running servers stop accepting it within their cache time)\n", *id)
		}
		return nil
	}
}
