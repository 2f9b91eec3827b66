package main

import (
	"context"
	"fmt"
	"io"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/demo"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sf := newFlags("demo", stdout, stderr, "addr", "data_dir", "database_url")
	if err := sf.parse(args); err != nil {
		return err
	}
	cfg, err := sf.load()
	if err != nil {
		return err
	}
	cfg.AutoMigrate = true
	log, flush := app.NewLogger(cfg, stderr)
	defer flush()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := demo.Seed(ctx, a)
	if err != nil {
		return fmt.Errorf("load demo data: %w", err)
	}
	return a.Serve(ctx, func(addr string) {
		fmt.Fprintf(stdout, "%s\n", res.Summary())
		fmt.Fprintf(stdout, "\nrouteloop demo is running at %s\n", cfg.PublicURL())
		fmt.Fprintf(stdout, "admin API key: %s\n", res.APIKey)
		fmt.Fprintf(stdout, "sign in at %s/login with password %q as:\n", cfg.PublicURL(), demo.DemoPassword)
		for _, l := range res.Logins {
			fmt.Fprintf(stdout, "  %-30s (%s)\n", l.Email, l.Role)
		}
		if res.SampleInvoiceToken != "" {
			fmt.Fprintf(stdout, "a customer's invoice page: %s/i/%s\n", cfg.PublicURL(), res.SampleInvoiceToken)
		}
		if res.SampleCode != "" {
			fmt.Fprintf(stdout, "a friend's landing page:   %s/r/%s\n", cfg.PublicURL(), res.SampleCode)
		}
		fmt.Fprintf(stdout, "try: curl -H 'Authorization: Bearer %s' %s/api/v1/crews\n", res.APIKey, cfg.PublicURL())
		fmt.Fprintln(stdout, "press Ctrl-C to stop")
	})
}
