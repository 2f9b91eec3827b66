package main

import (
	"context"
	"fmt"
	"io"

	"github.com/routeloop/routeloop/internal/app"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sf := newFlags("serve", stdout, stderr, "addr", "data_dir", "database_url")
	noMigrate := sf.fs.Bool("no-migrate", false, "do not apply pending migrations at start")
	if err := sf.parse(args); err != nil {
		return err
	}
	cfg, err := sf.load()
	if err != nil {
		return err
	}
	if *noMigrate {
		cfg.AutoMigrate = false
	}
	log, flush := app.NewLogger(cfg, stderr)
	defer flush()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, func(addr string) {
		log.Info("serving", "addr", addr, "database", a.Store.Dialect, "version", version())
		fmt.Fprintf(stdout, "routeloop listening on http://%s\n", addr)
	})
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sf := newFlags("migrate", stdout, stderr, "data_dir", "database_url")
	if err := sf.parse(args); err != nil {
		return err
	}
	cfg, err := sf.load()
	if err != nil {
		return err
	}
	s, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	ran, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(ran) == 0 {
		fmt.Fprintf(stdout, "%s database is up to date\n", s.Dialect)
		return nil
	}
	for _, m := range ran {
		fmt.Fprintf(stdout, "applied %s\n", m)
	}
	return nil
}
