package outbox

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/webhook"
)

// Endpoint statuses.
const (
	EndpointActive   = "active"
	EndpointFailing  = "failing"
	EndpointDisabled = "disabled"
)

// Endpoint is a URL a tenant receives events at.
type Endpoint struct {
	ID           int64      `json:"id"`
	TenantID     string     `json:"-"`
	URL          string     `json:"url"`
	EventTypes   []string   `json:"event_types" gorm:"serializer:json"`
	Secret       string     `json:"secret,omitempty"`
	Status       string     `json:"status"`
	FailingSince *time.Time `json:"failing_since"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// TableName is webhook_endpoints.
func (Endpoint) TableName() string { return "webhook_endpoints" }

// Wants reports whether the endpoint subscribed to kind (none listed: all).
func (e Endpoint) Wants(kind string) bool {
	if len(e.EventTypes) == 0 {
		return true
	}
	for _, k := range e.EventTypes {
		if k == kind {
			return true
		}
	}
	return false
}

// EndpointInput is the body of POST /webhook-endpoints.
type EndpointInput struct {
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types"`
}

// Endpoints manages registered endpoints.
type Endpoints struct {
	store  *store.Store
	outbox *Outbox
	// AllowPrivate lets endpoints point at loopback and private addresses
	// (an operator's choice; off by default against SSRF).
	AllowPrivate bool
}

// NewEndpoints returns the endpoint registry.
func NewEndpoints(s *store.Store, o *Outbox, allowPrivate bool) *Endpoints {
	return &Endpoints{store: s, outbox: o, AllowPrivate: allowPrivate}
}

// blockedAddr reports whether an address is off limits to tenants' URLs:
// loopback, private, link-local (cloud metadata), unspecified, multicast.
func blockedAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() ||
		(a.Is4() && a.As4()[0] == 0) || (a.Is4() && a.As4()[0] == 100 && a.As4()[1]&0xC0 == 64) // 0/8, CGNAT 100.64/10
}

// checkURL validates an endpoint URL: http(s), a host, no credentials, and
// (unless allowed) not a loopback or private address.
func (e *Endpoints) checkURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > 2000 {
		return apperror.Invalid("url", "must be an http:// or https:// URL")
	}
	if u.User != nil {
		return apperror.Invalid("url", "must not carry a user name or password")
	}
	if e.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return apperror.Invalid("url", "must not point at this machine")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if blockedAddr(a) {
			return apperror.Invalid("url", "must not point at a loopback or private address")
		}
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
	if err != nil {
		return nil // unresolvable now: the delivery dialer checks again at send time
	}
	for _, a := range addrs {
		if blockedAddr(a) {
			return apperror.Invalid("url", "resolves to a loopback or private address")
		}
	}
	return nil
}

// checkEventTypes answers the event types an endpoint subscribes to, each
// once in the order first given (none: all). A list longer than the known
// types, or naming an unknown one, is refused.
func checkEventTypes(types []string) ([]string, error) {
	if len(types) > len(EventTypes) {
		return nil, apperror.Invalid("event_types", fmt.Sprintf("must list at most the %d known event types, each once", len(EventTypes)))
	}
	known := map[string]bool{}
	for _, k := range EventTypes {
		known[k] = true
	}
	seen := map[string]bool{}
	out := []string{}
	for i, k := range types {
		if !known[k] {
			return nil, apperror.Invalid(fmt.Sprintf("event_types[%d]", i), "must be one of "+strings.Join(EventTypes, ", "))
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// Create registers an endpoint; its signing secret is returned this once.
func (e *Endpoints) Create(ctx context.Context, tenantID string, in EndpointInput) (Endpoint, error) {
	types, err := checkEventTypes(in.EventTypes)
	if err != nil {
		return Endpoint{}, err
	}
	in.EventTypes = types
	if err := e.checkURL(ctx, in.URL); err != nil {
		return Endpoint{}, err
	}
	now := e.outbox.clock.Now()
	ep := Endpoint{TenantID: tenantID, URL: in.URL, EventTypes: in.EventTypes, Secret: webhook.NewSecret(),
		Status: EndpointActive, CreatedAt: now, UpdatedAt: now}
	if err := e.store.DB.WithContext(ctx).Create(&ep).Error; err != nil {
		return Endpoint{}, fmt.Errorf("register endpoint: %w", err)
	}
	return ep, nil
}

// List returns the tenant's endpoints (secrets are not shown again).
func (e *Endpoints) List(ctx context.Context, tenantID string) ([]Endpoint, error) {
	var eps []Endpoint
	if err := store.Tenant(e.store.DB.WithContext(ctx), tenantID).Order("id").Find(&eps).Error; err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	for i := range eps {
		eps[i].Secret = ""
	}
	return eps, nil
}

// Delete removes an endpoint and its pending deliveries.
func (e *Endpoints) Delete(ctx context.Context, tenantID string, id int64) error {
	res := store.Tenant(e.store.DB.WithContext(ctx), tenantID).Where("id = ?", id).Delete(&Endpoint{})
	if res.Error != nil {
		return fmt.Errorf("delete endpoint: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return apperror.NotFound("webhook endpoint %d not found", id)
	}
	return nil
}

// Enable puts a failing or disabled endpoint back to work.
func (e *Endpoints) Enable(ctx context.Context, tenantID string, id int64) (Endpoint, error) {
	res := e.store.DB.WithContext(ctx).Exec(`UPDATE webhook_endpoints SET status = 'active', failing_since = NULL, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, e.outbox.clock.Now(), tenantID, id)
	if res.Error != nil {
		return Endpoint{}, fmt.Errorf("enable endpoint: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Endpoint{}, apperror.NotFound("webhook endpoint %d not found", id)
	}
	var ep Endpoint
	err := store.Tenant(e.store.DB.WithContext(ctx), tenantID).Where("id = ?", id).Take(&ep).Error
	ep.Secret = ""
	return ep, err
}
