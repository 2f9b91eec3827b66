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
	"strings"
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
  routeloop tenant key --tenant ID --role admin|dispatcher|crew|integration [--crew CREW_ID] [--label TEXT] [--json]
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

Every command answers --help (-h) with its usage and flags.

` + settingsNote

// settingsNote ends every usage.
const settingsNote = `Settings come from configs/routeloop.yaml, then ROUTELOOP_* environment
variables, then flags. Without --database-url (ROUTELOOP_DATABASE_URL) the
embedded SQLite database under --data-dir is used.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	code := exitCode(err)
	if code != 0 {
		fmt.Fprintln(os.Stderr, "routeloop:", err)
	}
	os.Exit(code)
}

// exitCode is the process's exit status for what run returned: 0 for
// success and for a command's --help, 1 for any error.
func exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

// usageOf is the part of the usage about one command ("tenant", "tenant
// webhook-secret"): its lines, then the note on settings.
func usageOf(command string) string {
	return usageLines(command) + "\n" + settingsNote
}

// usageLines are the usage's lines of one command and its subcommands.
func usageLines(command string) string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, line := range strings.Split(usage, "\n") {
		if strings.HasPrefix(line, "  routeloop "+command+" ") || line == "  routeloop "+command {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// helpAsked says whether a command's arguments ask for its help.
func helpAsked(args []string) bool {
	return len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help")
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
		return tenantCommand.run(ctx, rest, stdout, stderr)
	case "user":
		return userCommand.run(ctx, rest, stdout, stderr)
	case "reconcile":
		return cmdReconcile(ctx, rest, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(ctx, rest, stdout, stderr)
	case "version", "--version":
		if helpAsked(rest) {
			fmt.Fprint(stdout, usageOf("version"))
			return nil
		}
		fmt.Fprintln(stdout, "routeloop", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
