package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/user"
)

// userCommand manages the staff who sign in to the pages.
var userCommand = group{
	name:           "user",
	subs:           []string{"create", "list", "disable"},
	tenantRequired: true,
	flags:          userFlags,
}

// userFlags are the flags of the user subcommands, and what runs them.
func userFlags(fs *flag.FlagSet) action {
	var (
		email      = fs.String("email", "", "the user's e-mail, which they sign in with")
		role       = fs.String("role", "", "admin, dispatcher or crew")
		crewMember = fs.String("crew-member", "", "external id of the crew member a crew login acts as")
		password   = fs.String("password", "", "password (visible in the process list and shell history; omit to generate one)")
		asJSON     = fs.Bool("json", false, "print JSON")
	)
	return func(ctx context.Context, sub string, in invocation) error {
		svc := user.NewService(in.store, clock.System{})
		stdout := in.stdout
		switch sub {
		case "create":
			u, plain, err := svc.Create(ctx, in.tenantID, user.NewUser{Email: *email, Role: *role, Password: *password, CrewMember: *crewMember})
			if err != nil {
				return err
			}
			generated := *password == ""
			if *asJSON {
				out := map[string]any{"user_id": u.ID, "email": u.Email, "role": u.Role}
				if generated {
					out["password"] = plain
				}
				return json.NewEncoder(stdout).Encode(out)
			}
			fmt.Fprintf(stdout, "user_id:  %d\nemail:    %s\nrole:     %s\n", u.ID, u.Email, u.Role)
			if generated {
				fmt.Fprintf(stdout, "password: %s\n(the password is shown only now; hand it over safely)\n", plain)
			}
		case "list":
			us, err := svc.List(ctx, in.tenantID)
			if err != nil {
				return err
			}
			if *asJSON {
				return json.NewEncoder(stdout).Encode(us)
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tEMAIL\tROLE\tCREW MEMBER\tCREATED\tDISABLED")
			for _, u := range us {
				disabled := ""
				if u.DisabledAt != nil {
					disabled = u.DisabledAt.Format("2006-01-02 15:04")
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, u.CrewMember, u.CreatedAt.Format("2006-01-02 15:04"), disabled)
			}
			return w.Flush()
		case "disable":
			if err := svc.Disable(ctx, in.tenantID, *email); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "user %s disabled; their sessions have ended\n", user.NormalizeEmail(*email))
		}
		return nil
	}
}
