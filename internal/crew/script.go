package crew

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/text"
)

// Placeholders a script may use; each is filled per customer.
const (
	PlaceholderFirstName = "customer_first_name"
	PlaceholderFriend    = "friend_offer"
	PlaceholderReward    = "your_reward"
	PlaceholderNeighbor  = "neighbor_offer"
)

var placeholders = []string{PlaceholderFirstName, PlaceholderFriend, PlaceholderReward, PlaceholderNeighbor}

// DefaultScript is the seed's wording with placeholders; it is read when the
// tenant has no active script of its own.
var DefaultScript = Script{Name: "default", Active: true, Builtin: true,
	Body: "Glad you're happy with today's work, {customer_first_name}. Tell your friends about us: " +
		"they get {friend_offer}, and you get {your_reward}. {neighbor_offer}"}

// Script limits.
const (
	MaxScriptLen     = 1000
	MaxScriptNameLen = 40
	maxScripts       = 20
)

// Script is a variant of what crews say at the end of a job.
type Script struct {
	ID        int64     `json:"-"`
	TenantID  string    `json:"-"`
	Name      string    `json:"name"`
	Body      string    `json:"body"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Builtin marks the shipped default (not stored).
	Builtin bool `json:"builtin,omitempty" gorm:"-"`
}

// TableName is scripts.
func (Script) TableName() string { return "scripts" }

// ScriptInput is the body of POST /scripts (with name) and PUT
// /scripts/{name} (name from the path).
type ScriptInput struct {
	Name   string `json:"name"`
	Body   string `json:"body"`
	Active *bool  `json:"active"`
}

var braces = regexp.MustCompile(`\{([^{}]*)\}`)

// CheckScript explains why body cannot be a script: empty, too long, a
// brace that opens or closes nothing, or placeholders it does not know
// (all named).
func CheckScript(body string) error {
	switch {
	case strings.TrimSpace(body) == "":
		return errors.New("must not be empty")
	}
	if err := text.Check(body, text.Free, MaxScriptLen); err != nil {
		return err
	}
	var unknown []string
	for _, m := range braces.FindAllStringSubmatch(body, -1) {
		if !known(m[1]) && !contains(unknown, m[0]) {
			unknown = append(unknown, m[0])
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("unknown placeholders %s; a script may use {%s}",
			strings.Join(unknown, ", "), strings.Join(placeholders, "}, {"))
	}
	if rest := braces.ReplaceAllString(body, ""); strings.ContainsAny(rest, "{}") {
		return errors.New("has a { or } that is not part of a placeholder such as {customer_first_name}")
	}
	return nil
}

func known(name string) bool { return contains(placeholders, name) }

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// CheckScriptName explains why name cannot name a script (it goes in URLs).
func CheckScriptName(name string) error {
	if name == "" {
		return errors.New("must not be empty")
	}
	if text.Len(name) > MaxScriptNameLen {
		return fmt.Errorf("must be at most %d characters", MaxScriptNameLen)
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			return errors.New("may hold only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// Render fills the placeholders in one pass: a value that itself looks like
// a placeholder (a customer named "{your_reward}") stays as written. Spaces
// left by an empty value are tidied.
func Render(body string, values map[string]string) string {
	out := braces.ReplaceAllStringFunc(body, func(m string) string {
		if v, ok := values[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
	return strings.Join(strings.Fields(out), " ")
}

// ScriptForVisit picks the script read at one visit among the active
// scripts (ordered by name): a hash of (tenant, visit), spread evenly. It is
// per visit, not per crew member, so every member reads every script and a
// script test compares scripts rather than the people reading them. Both
// the crew's day and the pitch logged at the visit use it.
func ScriptForVisit(tenantID string, visitID int64, scripts []Script) Script {
	if len(scripts) == 0 {
		return DefaultScript
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/visit/%d", tenantID, visitID)
	return scripts[h.Sum32()%uint32(len(scripts))]
}

// Scripts lists the tenant's scripts by name; the built-in default when it
// has none.
func (s *Service) Scripts(ctx context.Context, tenantID string) ([]Script, error) {
	var out []Script
	if err := store.Tenant(s.store.DB.WithContext(ctx), tenantID).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list scripts: %w", err)
	}
	if len(out) == 0 {
		return []Script{DefaultScript}, nil
	}
	return out, nil
}

// activeScripts are the variants crews are assigned among, by name.
func activeScripts(db *gorm.DB, tenantID string) ([]Script, error) {
	var out []Script
	if err := store.Tenant(db, tenantID).Where("active").Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list scripts: %w", err)
	}
	return out, nil
}

func (in *ScriptInput) validate() error {
	f := apperror.Fields{}
	in.Name = strings.TrimSpace(in.Name)
	if err := CheckScriptName(in.Name); err != nil {
		f.Add("name", err.Error())
	}
	if err := CheckScript(in.Body); err != nil {
		f.Add("body", err.Error())
	}
	return f.Err()
}

// CreateScript adds a variant; a name already used is a conflict.
func (s *Service) CreateScript(ctx context.Context, tenantID string, in ScriptInput) (Script, error) {
	if err := in.validate(); err != nil {
		return Script{}, err
	}
	sc, up, err := s.putScript(ctx, tenantID, in, false)
	if err == nil && up != store.Created {
		return Script{}, apperror.Conflict("a script named %s exists; change it with PUT /api/v1/scripts/%s", in.Name, in.Name)
	}
	return sc, err
}

// PutScript creates or replaces the variant of that name.
func (s *Service) PutScript(ctx context.Context, tenantID, name string, in ScriptInput) (Script, store.Upserted, error) {
	if in.Name != "" && strings.TrimSpace(in.Name) != name {
		return Script{}, store.Updated, apperror.Invalid("name", "must match the name in the path, or be left out")
	}
	in.Name = name
	if err := in.validate(); err != nil {
		return Script{}, store.Updated, err
	}
	return s.putScript(ctx, tenantID, in, true)
}

func (s *Service) putScript(ctx context.Context, tenantID string, in ScriptInput, replace bool) (Script, store.Upserted, error) {
	active := in.Active == nil || *in.Active
	now := s.clock.Now()
	var (
		sc Script
		up store.Upserted
	)
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := store.Tenant(tx.Model(&Script{}), tenantID).Count(&n).Error; err != nil {
			return fmt.Errorf("count scripts: %w", err)
		}
		var err error
		sc, up, err = store.Upsert[Script](tx, `
			INSERT INTO scripts (tenant_id, name, body, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, name) DO NOTHING RETURNING *`,
			[]any{tenantID, in.Name, in.Body, active, now, now}, `
			UPDATE scripts SET body = CASE WHEN ? THEN ? ELSE body END, active = CASE WHEN ? THEN ? ELSE active END,
			       updated_at = CASE WHEN ? THEN ? ELSE updated_at END
			WHERE tenant_id = ? AND name = ? RETURNING *`,
			[]any{replace, in.Body, replace, active, replace, now, tenantID, in.Name})
		if err != nil {
			return fmt.Errorf("save script: %w", err)
		}
		if up == store.Created && n >= maxScripts {
			return apperror.Unprocessable("a tenant has at most %d scripts; change one instead", maxScripts)
		}
		return nil
	})
	return sc, up, err
}
