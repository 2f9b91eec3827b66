// Package tenant holds the service companies using routeloop and the API keys
// that act for them. A key belongs to one tenant and has one role; every
// request runs as the Principal its key resolves to.
package tenant

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/currency"
	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
)

// Roles a key may have.
const (
	RoleAdmin       = "admin"
	RoleDispatcher  = "dispatcher"
	RoleCrew        = "crew"
	RoleIntegration = "integration"
)

// Roles lists every valid role.
var Roles = []string{RoleAdmin, RoleDispatcher, RoleCrew, RoleIntegration}

// Tenant is one service company.
type Tenant struct {
	ID        string    `gorm:"primaryKey" json:"id"`
	Name      string    `json:"name"`
	Timezone  string    `json:"timezone"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Location is the tenant's time zone; a stored zone always loads because it
// was validated on the way in.
func (t Tenant) Location() *time.Location {
	loc, err := loadLocation(t.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// APIKey is a stored key: only its hash is kept.
type APIKey struct {
	ID       int64  `gorm:"primaryKey" json:"id"`
	TenantID string `json:"tenant_id"`
	Role     string `json:"role"`
	Label    string `json:"label"`
	Prefix   string `json:"prefix"`
	// CrewID binds a crew key to one crew (internal id; nil: unbound).
	CrewID    *int64     `json:"-"`
	Crew      string     `json:"crew,omitempty" gorm:"->"` // the bound crew's scheduler id, for lists
	KeyHash   string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Principal is who a request acts as.
type Principal struct {
	TenantID string
	Role     string
	KeyID    int64
	Location *time.Location
	Currency string
	// CrewID and Crew (the scheduler's id) name the crew a crew-bound key
	// acts for; 0 and "" for every other key.
	CrewID int64
	Crew   string
}

// Service manages tenants and keys.
type Service struct {
	store *store.Store
	clock clock.Clock
	keys  *keyCache
}

// NewService returns a tenant service over s that looks every key up in the
// database.
func NewService(s *store.Store, c clock.Clock) *Service { return &Service{store: s, clock: c} }

// CacheKeys makes Authenticate remember resolved keys for ttl (0: never).
func (s *Service) CacheKeys(ttl time.Duration) {
	s.keys = &keyCache{ttl: ttl, entries: map[string]cachedKey{}}
}

// NewTenant is what it takes to create a tenant.
type NewTenant struct {
	Name     string
	Timezone string
	Currency string
}

// ValidateTimezone accepts IANA zone names only ("Europe/Berlin", "UTC").
func ValidateTimezone(tz string) error {
	if tz == "" || tz == "Local" || strings.TrimSpace(tz) != tz {
		return fmt.Errorf("%q is not an IANA time zone such as Europe/Berlin", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Errorf("%q is not an IANA time zone such as Europe/Berlin", tz)
	}
	return nil
}

// ValidateCurrency accepts ISO 4217 codes in capitals ("EUR", "USD").
func ValidateCurrency(c string) error {
	if len(c) != 3 || strings.ToUpper(c) != c {
		return fmt.Errorf("%q is not an ISO 4217 currency code such as EUR", c)
	}
	if _, err := currency.ParseISO(c); err != nil {
		return fmt.Errorf("%q is not an ISO 4217 currency code such as EUR", c)
	}
	return nil
}

func (n NewTenant) validate() error {
	f := apperror.Fields{}
	if strings.TrimSpace(n.Name) == "" {
		f.Add("name", "must not be empty")
	}
	if err := ValidateTimezone(n.Timezone); err != nil {
		f.Add("timezone", err.Error())
	}
	if err := ValidateCurrency(n.Currency); err != nil {
		f.Add("currency", err.Error())
	}
	return f.Err()
}

// Create stores a new tenant with an admin key and returns both; the key's
// plain text is never stored and cannot be shown again.
func (s *Service) Create(ctx context.Context, n NewTenant) (Tenant, string, error) {
	if err := n.validate(); err != nil {
		return Tenant{}, "", err
	}
	now := s.clock.Now()
	t := Tenant{ID: uuid.NewString(), Name: strings.TrimSpace(n.Name), Timezone: n.Timezone, Currency: n.Currency, CreatedAt: now, UpdatedAt: now}
	var key string
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&t).Error; err != nil {
			return fmt.Errorf("create tenant: %w", err)
		}
		var err error
		key, _, err = issueKey(tx, t.ID, APIKey{Role: RoleAdmin, Label: "created with tenant"}, now)
		return err
	})
	if err != nil {
		return Tenant{}, "", err
	}
	return t, key, nil
}

// Get returns a tenant by id.
func (s *Service) Get(ctx context.Context, id string) (Tenant, error) {
	var t Tenant
	if _, err := uuid.Parse(id); err != nil {
		return t, apperror.NotFound("tenant %s not found", id)
	}
	err := s.store.DB.WithContext(ctx).Where("id = ?", id).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return t, apperror.NotFound("tenant %s not found", id)
	}
	if err != nil {
		return t, fmt.Errorf("get tenant: %w", err)
	}
	return t, nil
}

// FindByName returns the first tenant with this exact name.
func (s *Service) FindByName(ctx context.Context, name string) (Tenant, bool, error) {
	var ts []Tenant
	if err := s.store.DB.WithContext(ctx).Where("name = ?", name).Order("created_at").Limit(1).Find(&ts).Error; err != nil {
		return Tenant{}, false, fmt.Errorf("find tenant: %w", err)
	}
	if len(ts) == 0 {
		return Tenant{}, false, nil
	}
	return ts[0], true, nil
}

// List returns every tenant, oldest first (for the operator and scheduled jobs).
func (s *Service) List(ctx context.Context) ([]Tenant, error) {
	var ts []Tenant
	if err := s.store.DB.WithContext(ctx).Order("created_at, id").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ts, nil
}

// IssueKey creates a key with the given role for the tenant and returns its
// plain text (shown once) and stored record.
func (s *Service) IssueKey(ctx context.Context, tenantID, role, label string) (string, APIKey, error) {
	if !validRole(role) {
		return "", APIKey{}, apperror.Invalid("role", "must be one of "+strings.Join(Roles, ", "))
	}
	if _, err := s.Get(ctx, tenantID); err != nil {
		return "", APIKey{}, err
	}
	return issueKey(s.store.DB.WithContext(ctx), tenantID, APIKey{Role: role, Label: label}, s.clock.Now())
}

// IssueCrewKey creates a crew key bound to one crew of the tenant (the
// scheduler's id): it sees only that crew, its visits, the customers with a
// visit on its routes and its day. A crew the tenant does not have is
// refused with 422 naming the field crew.
func (s *Service) IssueCrewKey(ctx context.Context, tenantID, crewExternalID, label string) (string, APIKey, error) {
	if _, err := s.Get(ctx, tenantID); err != nil {
		return "", APIKey{}, err
	}
	db := s.store.DB.WithContext(ctx)
	var ids []int64
	if err := db.Raw(`SELECT id FROM crews WHERE tenant_id = ? AND external_id = ?`, tenantID, crewExternalID).Scan(&ids).Error; err != nil {
		return "", APIKey{}, fmt.Errorf("find crew: %w", err)
	}
	if len(ids) == 0 {
		return "", APIKey{}, apperror.Invalid("crew", fmt.Sprintf("the tenant has no crew with id %q (mirror the crew first)", crewExternalID))
	}
	return issueKey(db, tenantID, APIKey{Role: RoleCrew, Label: label, CrewID: &ids[0], Crew: crewExternalID}, s.clock.Now())
}

// ImportKey stores a key whose plain text the caller chose (the demo's
// well-known key). Importing the same key for the same tenant and role again
// does nothing; a key that is stored for another tenant or role, or revoked,
// is refused.
func (s *Service) ImportKey(ctx context.Context, tenantID, role, plain string) error {
	if !validRole(role) {
		return apperror.Invalid("role", "must be one of "+strings.Join(Roles, ", "))
	}
	if !strings.HasPrefix(plain, keyPrefix) || len(plain) < 20 {
		return apperror.Invalid("api_key", "must start with "+keyPrefix+" and be at least 20 characters")
	}
	k := APIKey{TenantID: tenantID, Role: role, Label: "imported", Prefix: prefixOf(plain), KeyHash: HashKey(plain), CreatedAt: s.clock.Now()}
	if err := s.store.DB.WithContext(ctx).Where("key_hash = ?", k.KeyHash).FirstOrCreate(&k).Error; err != nil {
		return fmt.Errorf("import key: %w", err)
	}
	if k.TenantID != tenantID || k.Role != role || k.RevokedAt != nil {
		return apperror.Conflict("that key is already stored for another tenant or role, or revoked")
	}
	return nil
}

// issueKey stores a new key with k's role, label and crew binding.
func issueKey(db *gorm.DB, tenantID string, k APIKey, now time.Time) (string, APIKey, error) {
	plain := newKey()
	k.TenantID, k.Prefix, k.KeyHash, k.CreatedAt = tenantID, prefixOf(plain), HashKey(plain), now
	if err := db.Create(&k).Error; err != nil {
		return "", APIKey{}, fmt.Errorf("store key: %w", err)
	}
	return plain, k, nil
}

// RevokeKey stops a key from working. Revoking twice is harmless.
func (s *Service) RevokeKey(ctx context.Context, tenantID string, keyID int64) error {
	res := store.Tenant(s.store.DB.WithContext(ctx), tenantID).Model(&APIKey{}).
		Where("id = ? AND revoked_at IS NULL", keyID).Update("revoked_at", s.clock.Now())
	if res.Error != nil {
		return fmt.Errorf("revoke key: %w", res.Error)
	}
	s.keys.forgetKey(keyID)
	if res.RowsAffected == 0 {
		var n int64
		store.Tenant(s.store.DB.WithContext(ctx), tenantID).Model(&APIKey{}).Where("id = ?", keyID).Count(&n)
		if n == 0 {
			return apperror.NotFound("key %d not found", keyID)
		}
	}
	return nil
}

// Keys lists a tenant's keys (hashes never leave the store).
func (s *Service) Keys(ctx context.Context, tenantID string) ([]APIKey, error) {
	var ks []APIKey
	err := s.store.DB.WithContext(ctx).Raw(`
		SELECT k.*, COALESCE(cr.external_id, '') AS crew
		FROM api_keys k LEFT JOIN crews cr ON cr.id = k.crew_id AND cr.tenant_id = k.tenant_id
		WHERE k.tenant_id = ? ORDER BY k.id`, tenantID).Scan(&ks).Error
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return ks, nil
}

// ErrUnauthorized is returned for a key that is unknown or revoked.
var ErrUnauthorized = &apperror.Error{Code: apperror.CodeUnauthorized, Message: "the API key is unknown or revoked"}

// Authenticate resolves a plain key to the principal it acts as, in one query.
func (s *Service) Authenticate(ctx context.Context, plain string) (Principal, error) {
	if !strings.HasPrefix(plain, keyPrefix) || len(plain) > 200 {
		return Principal{}, ErrUnauthorized
	}
	hash := HashKey(plain)
	now := time.Now()
	if p, ok := s.keys.get(hash, now); ok {
		return p, nil
	}
	var row struct {
		ID             int64
		TenantID       string
		Role           string
		Timezone       string
		Currency       string
		CrewID         *int64
		CrewExternalID *string
	}
	err := s.store.DB.WithContext(ctx).Raw(`
		SELECT k.id, k.tenant_id, k.role, t.timezone, t.currency, k.crew_id, cr.external_id AS crew_external_id
		FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
		LEFT JOIN crews cr ON cr.id = k.crew_id AND cr.tenant_id = k.tenant_id
		WHERE k.key_hash = ? AND k.revoked_at IS NULL`, hash).Scan(&row).Error
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if row.ID == 0 {
		return Principal{}, ErrUnauthorized
	}
	loc, err := loadLocation(row.Timezone)
	if err != nil {
		return Principal{}, fmt.Errorf("tenant %s time zone: %w", row.TenantID, err)
	}
	p := Principal{TenantID: row.TenantID, Role: row.Role, KeyID: row.ID, Location: loc, Currency: row.Currency}
	if row.CrewID != nil {
		if row.CrewExternalID == nil { // never: crews are not deleted; refuse rather than widen
			return Principal{}, ErrUnauthorized
		}
		p.CrewID, p.Crew = *row.CrewID, *row.CrewExternalID
	}
	s.keys.put(hash, p, now)
	return p, nil
}

const keyPrefix = "rl_"

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newKey() string {
	b := make([]byte, 25)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return keyPrefix + strings.ToLower(keyEncoding.EncodeToString(b))
}

func prefixOf(plain string) string {
	if len(plain) < len(keyPrefix)+6 {
		return plain
	}
	return plain[:len(keyPrefix)+6]
}

// HashKey is how keys are stored: SHA-256 suffices for 200-bit random keys.
func HashKey(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

func validRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}
