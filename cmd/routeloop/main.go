// Command routeloop runs the referral program service: serve the API, apply
// migrations, run the demo, manage tenants, keys and staff logins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // tenants' IANA zones work in a bare container too
)

const usage = `routeloop — customer referrals with rewards that know the route

Usage:
  routeloop serve   [--addr HOST:PORT] [--data-dir DIR] [--database-url URL] [--config FILE] [--no-migrate]
  routeloop demo    [--addr HOST:PORT] [--data-dir DIR] [--config FILE]
  routeloop migrate [--data-dir DIR] [--database-url URL] [--config FILE]
  routeloop tenant create --name NAME --timezone ZONE --currency CODE [--json]
  routeloop tenant list
  routeloop tenant key --tenant ID --role admin|dispatcher|crew|integration [--label TEXT] [--json]
  routeloop tenant keys --tenant ID
  routeloop tenant revoke-key --tenant ID --key-id N
  routeloop tenant webhook-secret create --tenant ID [--json]
  routeloop tenant webhook-secret list --tenant ID
  routeloop tenant webhook-secret revoke --tenant ID --id N
  routeloop user create --tenant ID --email E --role admin|dispatcher|crew [--crew-member EXT_ID] [--password P] [--json]
  routeloop user list --tenant ID [--json]
  routeloop user disable --tenant ID --email E
  routeloop import --tenant ID --file customers.csv|crews.csv|visits.csv|invoices.csv [--type KIND]
  routeloop reconcile --date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD [--tenant ID]
  routeloop healthcheck [--addr HOST:PORT]
  routeloop version

Settings come from configs/routeloop.yaml, then ROUTELOOP_* environment
variables, then flags. Without --database-url (ROUTELOOP_DATABASE_URL) the
embedded SQLite database under --data-dir is used.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "routeloop:", err)
		os.Exit(1)
	}
}

// run executes one command line; main only adds signals and the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("name a command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "tenant":
		return cmdTenant(ctx, rest, stdout, stderr)
	case "user":
		return cmdUser(ctx, rest, stdout, stderr)
	case "reconcile":
		return cmdReconcile(ctx, rest, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "routeloop", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
