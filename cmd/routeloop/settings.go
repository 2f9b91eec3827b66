package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"flag"
	"io"
	"os"
	"regexp"
	"runtime/debug"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/store"

	"github.com/routeloop/routeloop/internal/config"
)

// settingFlags registers the flags that override configuration and returns a
// function that loads the configuration with them applied.
type settingFlags struct {
	fs             *flag.FlagSet
	stdout, stderr io.Writer
	config         *string
	values         map[string]*string
}

// newFlags makes a flag set for a command with the given setting flags
// (file keys such as "addr", "data_dir"); --config is always there. Its
// usage is the command's lines of the usage, then its flags.
func newFlags(name string, stdout, stderr io.Writer, keys ...string) *settingFlags {
	fs := flag.NewFlagSet("routeloop "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageLines(name)+"\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+settingsNote)
	}
	sf := &settingFlags{fs: fs, stdout: stdout, stderr: stderr, values: map[string]*string{}}
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

// parse reads the command's flags. --help (-h) prints the usage to stdout
// and returns flag.ErrHelp, which exits 0; a bad flag prints it to stderr.
func (sf *settingFlags) parse(args []string) error {
	var out bytes.Buffer
	sf.fs.SetOutput(&out)
	err := sf.fs.Parse(args)
	w := sf.stderr
	if errors.Is(err, flag.ErrHelp) {
		w = sf.stdout
	}
	_, _ = out.WriteTo(w)
	return err
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

// Version, Commit and BuildDate are set at build time, as the Dockerfile
// does from its build arguments:
//
//	-ldflags "-X main.Version=v1.2.3 -X main.Commit=abc123 -X main.BuildDate=2026-12-02T10:00:00Z"
//
// Any left unset is taken from what the go command recorded of the git
// checkout it built from (vcs.revision, vcs.time, vcs.modified).
var Version, Commit, BuildDate string

// version is the version line's text: "v1.2.3 (commit abc123, built
// 2026-12-02T10:00:00Z)", "dev" where nothing is known.
func version() string {
	var settings []debug.BuildSetting
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		settings = bi.Settings
		if v == "" {
			v = moduleVersion(bi.Main.Version)
		}
	}
	return describeVersion(v, Commit, BuildDate, settings)
}

// pseudoVersion matches the go command's made-up versions of an untagged
// commit, such as v0.0.0-20261202143315-05630b1b417d.
var pseudoVersion = regexp.MustCompile(`-(\d+\.)?\d{14}-[0-9a-f]{12}(\+dirty)?$`)

// moduleVersion is the version the go command recorded for the build when
// it is a release's tag (go install ...@v1.2.3, or a checkout at that tag):
// not "(devel)", nor a pseudo-version, which only repeats the commit and
// its date that the version line shows anyway. Its "+dirty" is left off:
// the commit says "+changes".
func moduleVersion(v string) string {
	if v == "(devel)" || pseudoVersion.MatchString(v) {
		return ""
	}
	return strings.TrimSuffix(v, "+dirty")
}

// describeVersion fills what the build flags left out from the build's
// recorded settings.
func describeVersion(v, commit, date string, settings []debug.BuildSetting) string {
	dirty := ""
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			if commit == "" {
				commit = s.Value
			}
		case "vcs.time":
			if date == "" {
				date = s.Value
			}
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+changes"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	var about []string
	if commit != "" {
		about = append(about, "commit "+commit+dirty)
	}
	if date != "" {
		about = append(about, "built "+date)
	}
	if len(about) == 0 {
		return v
	}
	return v + " (" + strings.Join(about, ", ") + ")"
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
