package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/user"
)

// cmdUser manages the staff who sign in to the pages.
func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if helpAsked(args) {
		fmt.Fprint(stdout, usageOf("user"))
		return nil
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usageOf("user"))
		return errors.New("user: name a subcommand: create, list, disable")
	}
	sub, args := args[0], args[1:]
	sf := newFlags("user "+sub, stdout, stderr, "data_dir", "database_url")
	var (
		tenantID   = sf.fs.String("tenant", "", "tenant id (required)")
		email      = sf.fs.String("email", "", "the user's e-mail, which they sign in with")
		role       = sf.fs.String("role", "", "admin, dispatcher or crew")
		crewMember = sf.fs.String("crew-member", "", "external id of the crew member a crew login acts as")
		password   = sf.fs.String("password", "", "password (visible in the process list and shell history; omit to generate one)")
		asJSON     = sf.fs.Bool("json", false, "print JSON")
	)
	if err := sf.parse(args); err != nil {
		return err
	}
	if *tenantID == "" {
		return fmt.Errorf("user %s: --tenant is required", sub)
	}
	if sub != "create" && sub != "list" && sub != "disable" {
		return fmt.Errorf("user: unknown subcommand %q", sub)
	}
	s, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	svc := user.NewService(s, clock.System{})
	switch sub {
	case "create":
		u, plain, err := svc.Create(ctx, *tenantID, user.NewUser{Email: *email, Role: *role, Password: *password, CrewMember: *crewMember})
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
		us, err := svc.List(ctx, *tenantID)
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
		if err := svc.Disable(ctx, *tenantID, *email); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s disabled; their sessions have ended\n", user.NormalizeEmail(*email))
	}
	return nil
}
