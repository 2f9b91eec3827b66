// Package user holds the staff who sign in to the pages — people, not API
// keys: their accounts (e-mail and bcrypt password, one role, a crew login
// optionally tied to a crew member), their sessions, kept in the database so
// every replica knows them, and the throttle on failed sign-ins.
//
// It knows nothing of HTTP: the CLI and the demo create users through it,
// and internal/web turns sessions into cookies and guards the pages.
package user

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Roles a user may have (API keys also have "integration"; people do not).
var Roles = []string{tenant.RoleAdmin, tenant.RoleDispatcher, tenant.RoleCrew}

// User is a stored staff login.
type User struct {
	ID           int64      `json:"id"`
	TenantID     string     `json:"tenant_id"`
	Email        string     `json:"email"`
	PasswordHash string     `json:"-"`
	Role         string     `json:"role"`
	CrewMemberID *int64     `json:"crew_member_id,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
}

// Account is a user as listed, with the crew member's external id.
type Account struct {
	User
	CrewMember string `json:"crew_member,omitempty"`
}

// NewUser is what it takes to create a user.
type NewUser struct {
	Email string
	Role  string
	// Password is the plain password; empty means Create generates one.
	Password string
	// CrewMember is the external id of the crew member a crew login acts as.
	CrewMember string
}

// Service manages users and their sessions.
type Service struct {
	store   *store.Store
	clock   clock.Clock
	limiter failureCounter
}

// NewService returns the user service over s; failed sign-ins are throttled
// per e-mail and address (LoginFailures within LoginWindow), counted across
// replicas on PostgreSQL and in the process on SQLite.
func NewService(s *store.Store, c clock.Clock) *Service {
	return &Service{store: s, clock: c, limiter: newFailureCounter(s, c)}
}

// NormalizeEmail is how e-mails are stored and looked up: trimmed, lower case.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func validEmail(e string) bool {
	if e == "" || len(e) > 254 {
		return false
	}
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && strings.Contains(e, "@")
}

// ValidRole reports whether r is a role a person may have.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Create stores a new user and returns it with the plain password: the one
// given, or a generated one when none was (shown once: only its hash is
// kept).
func (s *Service) Create(ctx context.Context, tenantID string, n NewUser) (User, string, error) {
	email := NormalizeEmail(n.Email)
	f := apperror.Fields{}
	if !validEmail(email) {
		f.Add("email", "must be an e-mail address such as dispatcher@example.com")
	}
	if !ValidRole(n.Role) {
		f.Add("role", "must be one of "+strings.Join(Roles, ", "))
	}
	if n.CrewMember != "" && n.Role != tenant.RoleCrew {
		f.Add("crew_member", "only a crew login acts as a crew member")
	}
	password := n.Password
	if password == "" {
		password = GeneratePassword()
	}
	if err := CheckPassword(password); err != nil {
		f.Add("password", err.Error())
	}
	if err := f.Err(); err != nil {
		return User{}, "", err
	}
	if err := s.tenantExists(ctx, tenantID); err != nil {
		return User{}, "", err
	}
	u := User{TenantID: tenantID, Email: email, Role: n.Role, CreatedAt: s.clock.Now()}
	if n.CrewMember != "" {
		id, err := s.crewMember(ctx, tenantID, n.CrewMember)
		if err != nil {
			return User{}, "", err
		}
		u.CrewMemberID = &id
	}
	hash, err := hashPassword(password)
	if err != nil {
		return User{}, "", err
	}
	u.PasswordHash = hash
	if err := s.store.DB.WithContext(ctx).Create(&u).Error; err != nil {
		if store.IsUniqueViolation(err) {
			return User{}, "", apperror.Conflict("a user with e-mail %s already exists in this tenant", email)
		}
		return User{}, "", fmt.Errorf("create user: %w", err)
	}
	return u, password, nil
}

// Ensure makes sure a user with this e-mail, role and password exists (the
// demo's well-known login) and reports whether it created it. A stored user
// with another role or password, or disabled, is refused, not changed.
func (s *Service) Ensure(ctx context.Context, tenantID string, n NewUser) (bool, error) {
	if n.Password == "" {
		return false, apperror.Invalid("password", "must not be empty")
	}
	u, found, err := s.find(ctx, tenantID, NormalizeEmail(n.Email))
	if err != nil {
		return false, err
	}
	if !found {
		_, _, err := s.Create(ctx, tenantID, n)
		if apperror.HasCode(err, apperror.CodeConflict) { // created meanwhile
			return s.Ensure(ctx, tenantID, n)
		}
		return err == nil, err
	}
	if u.Role != n.Role || u.DisabledAt != nil || !passwordMatches(u.PasswordHash, n.Password) {
		return false, apperror.Conflict("user %s is already stored with another role or password, or disabled", u.Email)
	}
	return false, nil
}

func (s *Service) find(ctx context.Context, tenantID, email string) (User, bool, error) {
	var us []User
	if _, err := uuid.Parse(tenantID); err != nil {
		return User{}, false, nil
	}
	err := store.Tenant(s.store.DB.WithContext(ctx), tenantID).Where("email = ?", email).Limit(1).Find(&us).Error
	if err != nil {
		return User{}, false, fmt.Errorf("find user: %w", err)
	}
	if len(us) == 0 {
		return User{}, false, nil
	}
	return us[0], true, nil
}

func (s *Service) tenantExists(ctx context.Context, tenantID string) error {
	var n int64
	if _, err := uuid.Parse(tenantID); err == nil {
		if err := s.store.DB.WithContext(ctx).Table("tenants").Where("id = ?", tenantID).Count(&n).Error; err != nil {
			return fmt.Errorf("find tenant: %w", err)
		}
	}
	if n == 0 {
		return apperror.NotFound("tenant %s not found", tenantID)
	}
	return nil
}

func (s *Service) crewMember(ctx context.Context, tenantID, externalID string) (int64, error) {
	var ids []int64
	err := store.Tenant(s.store.DB.WithContext(ctx).Table("crew_members"), tenantID).
		Where("external_id = ?", externalID).Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return 0, fmt.Errorf("find crew member: %w", err)
	}
	if len(ids) == 0 {
		return 0, apperror.Invalid("crew_member", fmt.Sprintf("no crew member with external id %q in this tenant", externalID))
	}
	return ids[0], nil
}

// List returns a tenant's users by e-mail, disabled ones included.
func (s *Service) List(ctx context.Context, tenantID string) ([]Account, error) {
	if err := s.tenantExists(ctx, tenantID); err != nil {
		return nil, err
	}
	var out []Account
	err := s.store.DB.WithContext(ctx).Raw(`
		SELECT u.id, u.tenant_id, u.email, u.role, u.crew_member_id, u.created_at, u.disabled_at,
		       COALESCE(m.external_id, '') AS crew_member
		FROM users u LEFT JOIN crew_members m ON m.id = u.crew_member_id
		WHERE u.tenant_id = ? ORDER BY u.email`, tenantID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// Disable stops a user from signing in and ends their sessions. Disabling
// twice is harmless.
func (s *Service) Disable(ctx context.Context, tenantID, email string) error {
	u, found, err := s.find(ctx, tenantID, NormalizeEmail(email))
	if err != nil {
		return err
	}
	if !found {
		return apperror.NotFound("no user %s in tenant %s", NormalizeEmail(email), tenantID)
	}
	now := s.clock.Now()
	return s.store.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL`, now, u.ID).Error; err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		if err := tx.Exec(`UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, now, u.ID).Error; err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return nil
	})
}

// Sign-in outcomes other than success.
var (
	// ErrBadCredentials: unknown e-mail or wrong password (never which).
	ErrBadCredentials = &apperror.Error{Code: apperror.CodeUnauthorized, Message: "the e-mail or password is not right"}
	// ErrDisabled: the password was right but the login is disabled.
	ErrDisabled = &apperror.Error{Code: apperror.CodeForbidden, Message: "this login has been disabled; ask your administrator"}
)

// Throttled is returned while an e-mail and address may not try again.
type Throttled struct{ RetryAfter time.Duration }

func (t *Throttled) Error() string {
	return fmt.Sprintf("too many failed sign-ins; try again in %s", t.RetryAfter.Round(time.Minute))
}

// Company is a tenant a signed-in e-mail could mean.
type Company struct {
	ID, Name string
}

// ChooseCompany is returned when the e-mail and password are right for
// users in several tenants: the caller asks which company and tries again
// with its id. It lists only tenants whose password matched, so it tells an
// attacker nothing.
type ChooseCompany struct{ Companies []Company }

func (c *ChooseCompany) Error() string { return "the login exists for several companies; choose one" }

// Login checks an e-mail and password (within one tenant when tenantID is
// set) and returns the user. Failures count against email+ip; once
// LoginFailures have failed within LoginWindow it returns *Throttled
// without checking. bcrypt runs even for an unknown e-mail, so the answer
// takes about as long either way.
func (s *Service) Login(ctx context.Context, email, password, tenantID, ip string) (User, error) {
	email = NormalizeEmail(email)
	key := email + "|" + ip
	if ok, wait, err := s.limiter.Allow(ctx, key); err != nil {
		return User{}, err
	} else if !ok {
		return User{}, &Throttled{RetryAfter: wait}
	}
	u, err := s.authenticate(ctx, email, password, tenantID)
	switch {
	case err == nil:
		if rerr := s.limiter.Reset(ctx, key); rerr != nil {
			return User{}, rerr
		}
	case errors.Is(err, ErrBadCredentials), errors.Is(err, ErrDisabled):
		if ferr := s.limiter.Fail(ctx, key); ferr != nil {
			return User{}, ferr
		}
	}
	return u, err
}

// maxCandidates bounds the bcrypt work one sign-in can cause.
const maxCandidates = 8

func (s *Service) authenticate(ctx context.Context, email, password, tenantID string) (User, error) {
	var cands []struct {
		User
		TenantName string
	}
	if validEmail(email) && (tenantID == "" || uuid.Validate(tenantID) == nil) {
		q := `SELECT u.*, t.name AS tenant_name FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = ?`
		args := []any{email}
		if tenantID != "" {
			q += ` AND u.tenant_id = ?`
			args = append(args, tenantID)
		}
		if err := s.store.DB.WithContext(ctx).Raw(q+` ORDER BY t.name, u.id LIMIT ?`, append(args, maxCandidates)...).Scan(&cands).Error; err != nil {
			return User{}, fmt.Errorf("sign in: %w", err)
		}
	}
	if len(cands) == 0 {
		passwordMatches(dummyHash(), password)
		return User{}, ErrBadCredentials
	}
	var (
		matched  []User
		names    []Company
		disabled bool
	)
	for _, c := range cands {
		if !passwordMatches(c.PasswordHash, password) {
			continue
		}
		if c.DisabledAt != nil {
			disabled = true
			continue
		}
		matched = append(matched, c.User)
		names = append(names, Company{ID: c.TenantID, Name: c.TenantName})
	}
	switch {
	case len(matched) == 1:
		return matched[0], nil
	case len(matched) > 1:
		return User{}, &ChooseCompany{Companies: names}
	case disabled:
		return User{}, ErrDisabled
	}
	return User{}, ErrBadCredentials
}
