package main

import (
	"context"

	"flag"
	"io"
	"os"
	"runtime/debug"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/store"

	"github.com/routeloop/routeloop/internal/config"
)

// settingFlags registers the flags that override configuration and returns a
// function that loads the configuration with them applied.
type settingFlags struct {
	fs     *flag.FlagSet
	config *string
	values map[string]*string
}

// newFlags makes a flag set for a command with the given setting flags
// (file keys such as "addr", "data_dir"); --config is always there.
func newFlags(name string, stderr io.Writer, keys ...string) *settingFlags {
	fs := flag.NewFlagSet("routeloop "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := &settingFlags{fs: fs, values: map[string]*string{}}
	sf.config = fs.String("config", os.Getenv("ROUTELOOP_CONFIG"), "YAML settings file (default "+config.DefaultFile+" when present)")
	help := map[string]string{
		"addr":         "listen address, host:port",
		"data_dir":     "directory of the embedded SQLite database",
		"database_url": "PostgreSQL URL (postgres://...); empty means SQLite",
	}
	for _, k := range keys {
		sf.values[k] = fs.String(flagName(k), "", help[k])
	}
	return sf
}

func flagName(key string) string {
	b := []byte(key)
	for i, c := range b {
		if c == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}

// load reads the configuration and applies the flags that were given.
func (sf *settingFlags) load() (config.Config, error) {
	cfg, err := config.Load(*sf.config, os.Environ())
	if err != nil {
		return cfg, err
	}
	var setErr error
	sf.fs.Visit(func(f *flag.Flag) {
		for k := range sf.values {
			if flagName(k) == f.Name && setErr == nil {
				setErr = cfg.Set(k, f.Value.String())
			}
		}
	})
	if setErr != nil {
		return cfg, setErr
	}
	return cfg, cfg.Validate()
}

// Version is set at build time with -ldflags "-X main.Version=v1.2.3".
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			return "dev-" + rev + dirty
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

// openStore loads the settings, opens the database and brings its schema
// up to date: what every command that reads or writes data needs first.
func (sf *settingFlags) openStore(ctx context.Context) (*store.Store, error) {
	cfg, err := sf.load()
	if err != nil {
		return nil, err
	}
	s, err := app.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
