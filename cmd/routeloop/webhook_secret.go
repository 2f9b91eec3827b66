package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/webhook"
)

// cmdWebhookSecret manages a tenant's inbound webhook signing secrets.
func cmdWebhookSecret(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if helpAsked(args) {
		fmt.Fprint(stdout, usageOf("tenant webhook-secret"))
		return nil
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usageOf("tenant webhook-secret"))
		return errors.New("tenant webhook-secret: name a subcommand: create, list, revoke")
	}
	sub, args := args[0], args[1:]
	sf := newFlags("tenant webhook-secret "+sub, stdout, stderr, "data_dir", "database_url")
	var (
		tenantID = sf.fs.String("tenant", "", "tenant id (required)")
		id       = sf.fs.Int64("id", 0, "id of the secret to revoke")
		asJSON   = sf.fs.Bool("json", false, "print JSON")
	)
	if err := sf.parse(args); err != nil {
		return err
	}
	if *tenantID == "" {
		return errors.New("tenant webhook-secret: --tenant is required")
	}
	s, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	svc := webhook.NewService(s, clock.System{}, nil, nil)
	switch sub {
	case "create":
		k, plain, err := svc.CreateSecret(ctx, *tenantID)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(map[string]any{"id": k.ID, "secret": plain})
		}
		fmt.Fprintf(stdout, "id:     %d\nsecret: %s\n(the secret is shown only now; give it to the scheduler that signs webhooks to /hooks/v1/%s)\n",
			k.ID, plain, *tenantID)
	case "list":
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tPREFIX\tCREATED\tREVOKED")
		p := store.Page{Limit: store.MaxLimit}
		for {
			ks, next, err := svc.Secrets(ctx, *tenantID, p)
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
		if _, err := svc.RevokeSecret(ctx, *tenantID, *id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "webhook secret %d revoked (other running servers stop accepting it within their cache time)\n", *id)
	default:
		return fmt.Errorf("tenant webhook-secret: unknown subcommand %q", sub)
	}
	return nil
}
