package webhook

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Secret is one of a tenant's inbound signing secrets. Its value is stored
// as is (verifying an HMAC needs it) and shown only when it is made.
type Secret struct {
	ID        int64      `json:"id"`
	TenantID  string     `json:"-"`
	Secret    string     `json:"-"`
	Prefix    string     `json:"prefix" gorm:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// TableName is where secrets live.
func (Secret) TableName() string { return "webhook_secrets" }

func (k Secret) withPrefix() Secret {
	if len(k.Secret) > len(secretPrefix)+4 {
		k.Prefix = k.Secret[:len(secretPrefix)+4]
	}
	return k
}

// MaxActiveSecrets bounds a tenant's unrevoked secrets: enough to rotate,
// few enough that verifying a delivery stays cheap.
const MaxActiveSecrets = 5

// CreateSecret makes a new active secret for the tenant and returns it with
// its plain value, which is not shown again. Older secrets stay valid until
// revoked, so the sender can switch over without a gap.
func (s *Service) CreateSecret(ctx context.Context, tenantID string) (Secret, string, error) {
	if _, err := uuid.Parse(tenantID); err != nil {
		return Secret{}, "", apperror.NotFound("tenant %s not found", tenantID)
	}
	k := Secret{TenantID: tenantID, Secret: NewSecret(), CreatedAt: s.clock.Now()}
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		// Locking the tenant row serialises concurrent creates, so the cap holds.
		var ids []string
		if err := store.LockRows(tx.Table("tenants")).Where("id = ?", tenantID).Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("lock tenant: %w", err)
		}
		if len(ids) == 0 {
			return apperror.NotFound("tenant %s not found", tenantID)
		}
		var active int64
		if err := store.Tenant(tx, tenantID).Model(&Secret{}).Where("revoked_at IS NULL").Count(&active).Error; err != nil {
			return fmt.Errorf("count secrets: %w", err)
		}
		if active >= MaxActiveSecrets {
			return apperror.Conflict("a tenant has at most %d active webhook secrets; revoke one first", MaxActiveSecrets)
		}
		if err := tx.Create(&k).Error; err != nil {
			return fmt.Errorf("store secret: %w", err)
		}
		return nil
	})
	if err != nil {
		return Secret{}, "", err
	}
	s.tenants.forget(tenantID)
	return k.withPrefix(), k.Secret, nil
}

// Secrets lists a tenant's secrets, revoked ones included, without their
// values.
func (s *Service) Secrets(ctx context.Context, tenantID string, p store.Page) ([]Secret, string, error) {
	var ks []Secret
	if _, err := uuid.Parse(tenantID); err != nil {
		return nil, "", nil
	}
	err := store.Tenant(s.store.DB.WithContext(ctx), tenantID).Where("id > ?", p.After).Order("id").Limit(p.Limit).Find(&ks).Error
	if err != nil {
		return nil, "", fmt.Errorf("list webhook secrets: %w", err)
	}
	var last int64
	for i := range ks {
		ks[i] = ks[i].withPrefix()
		last = ks[i].ID
	}
	return ks, p.Next(len(ks), last), nil
}

// RevokeSecret stops a secret from verifying deliveries, at once in this
// process and within the cache time in others. Revoking twice is harmless.
func (s *Service) RevokeSecret(ctx context.Context, tenantID string, id int64) (Secret, error) {
	if _, err := uuid.Parse(tenantID); err != nil {
		return Secret{}, apperror.NotFound("webhook secret %d not found", id)
	}
	db := s.store.DB.WithContext(ctx)
	if err := store.Tenant(db, tenantID).Model(&Secret{}).Where("id = ? AND revoked_at IS NULL", id).
		Update("revoked_at", s.clock.Now()).Error; err != nil {
		return Secret{}, fmt.Errorf("revoke webhook secret: %w", err)
	}
	s.tenants.forget(tenantID)
	var k Secret
	err := store.Tenant(db, tenantID).Where("id = ?", id).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Secret{}, apperror.NotFound("webhook secret %d not found", id)
	}
	if err != nil {
		return Secret{}, fmt.Errorf("read webhook secret: %w", err)
	}
	return k.withPrefix(), nil
}

// CacheSecrets makes Receive remember a tenant's zone, currency and active
// secrets for ttl (0: read them for every delivery). A secret made or
// revoked through this process counts at once; one changed elsewhere (the
// CLI, another replica) within ttl.
func (s *Service) CacheSecrets(ttl time.Duration) {
	s.tenants = &tenantCache{ttl: ttl, entries: map[string]cachedTenant{}}
}

// tenantSecrets returns the tenant and its active secrets. An unknown or
// malformed tenant id yields no secrets and no error, so it is refused
// exactly like a wrong signature.
func (s *Service) tenantSecrets(ctx context.Context, tenantID string) (Tenant, []string, error) {
	id, err := uuid.Parse(tenantID)
	if err != nil {
		return Tenant{}, nil, nil
	}
	tenantID = id.String()
	now := time.Now()
	e, gen, ok := s.tenants.get(tenantID, now)
	if ok {
		return e.tenant, e.secrets, nil
	}
	var rows []struct {
		Timezone string
		Currency string
		Secret   *string
	}
	err = s.store.DB.WithContext(ctx).Raw(`SELECT t.timezone, t.currency, ws.secret
		FROM tenants t LEFT JOIN webhook_secrets ws ON ws.tenant_id = t.id AND ws.revoked_at IS NULL
		WHERE t.id = ? ORDER BY ws.id DESC`, tenantID).Scan(&rows).Error
	if err != nil {
		return Tenant{}, nil, fmt.Errorf("read webhook secrets: %w", err)
	}
	if len(rows) == 0 {
		return Tenant{}, nil, nil
	}
	t := Tenant{ID: tenantID, Location: tenant.Tenant{Timezone: rows[0].Timezone}.Location(), Currency: rows[0].Currency}
	var secrets []string
	for _, r := range rows {
		if r.Secret != nil {
			secrets = append(secrets, *r.Secret)
		}
	}
	if len(secrets) > 0 {
		s.tenants.put(tenantID, cachedTenant{tenant: t, secrets: secrets}, gen, now)
	}
	return t, secrets, nil
}

// lookupTenant returns a tenant by id, or not_found.
func (s *Service) lookupTenant(ctx context.Context, tenantID string) (Tenant, error) {
	id, err := uuid.Parse(tenantID)
	if err != nil {
		return Tenant{}, apperror.NotFound("tenant %s not found", tenantID)
	}
	var ts []tenant.Tenant
	if err := s.store.DB.WithContext(ctx).Where("id = ?", id.String()).Limit(1).Find(&ts).Error; err != nil {
		return Tenant{}, fmt.Errorf("read tenant: %w", err)
	}
	if len(ts) == 0 {
		return Tenant{}, apperror.NotFound("tenant %s not found", tenantID)
	}
	return Tenant{ID: ts[0].ID, Location: ts[0].Location(), Currency: ts[0].Currency}, nil
}

// tenantCache remembers tenants that have secrets, by id.
type tenantCache struct {
	ttl     time.Duration
	mu      sync.RWMutex
	entries map[string]cachedTenant
	// gen counts forgets: a read that began before one is not cached, so
	// a secret revoked during the read cannot come back.
	gen uint64
}

type cachedTenant struct {
	tenant  Tenant
	secrets []string
	expires time.Time
}

// maxCachedTenants bounds memory; past it the cache starts over.
const maxCachedTenants = 10_000

// get returns the entry if it is fresh, and the generation to hand put.
func (c *tenantCache) get(id string, now time.Time) (cachedTenant, uint64, bool) {
	if c == nil || c.ttl <= 0 {
		return cachedTenant{}, 0, false
	}
	c.mu.RLock()
	e, ok := c.entries[id]
	gen := c.gen
	c.mu.RUnlock()
	if !ok || now.After(e.expires) {
		return cachedTenant{}, gen, false
	}
	return e, gen, true
}

func (c *tenantCache) put(id string, e cachedTenant, gen uint64, now time.Time) {
	if c == nil || c.ttl <= 0 {
		return
	}
	e.expires = now.Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= maxCachedTenants {
		c.entries = map[string]cachedTenant{}
	}
	c.entries[id] = e
}

func (c *tenantCache) forget(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.entries, id)
	c.gen++
	c.mu.Unlock()
}
