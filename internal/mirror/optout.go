package mirror

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/events"
)

// The marketing opt-out link: /optout/{token}, one per customer, for the
// pages and messages routeloop and the scheduler send people. The token is
// the customer's id and an HMAC of it (and of the tenant) under a server
// secret, so it cannot be guessed or forged, needs no table, and stays
// valid for good (an old e-mail's link still works).

// EventMarketingOptOut is announced when a customer stops marketing
// messages through their opt-out link.
const EventMarketingOptOut = "customer.marketing_opt_out"

// optOutSecret names the server secret the tokens are signed with.
const optOutSecret = "optout"

// optOutMACLen is how many bytes of the HMAC a token keeps (128 bits).
const optOutMACLen = 16

// UseEvents sets where opt-outs are announced (the outbox).
func (s *Service) UseEvents(em events.Emitter) { s.events = em }

// keyCache holds a server secret once read: secrets never change.
type keyCache struct {
	mu  sync.Mutex
	key []byte
}

func (s *Service) optOutKey(ctx context.Context) ([]byte, error) {
	s.optOut.mu.Lock()
	defer s.optOut.mu.Unlock()
	if s.optOut.key == nil {
		k, err := s.store.Secret(ctx, optOutSecret)
		if err != nil {
			return nil, err
		}
		s.optOut.key = k
	}
	return s.optOut.key, nil
}

func optOutMAC(key []byte, tenantID string, id int64) []byte {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "optout\x00%s\x00%d", tenantID, id)
	return m.Sum(nil)[:optOutMACLen]
}

// optOutToken is the customer's token: 32 URL-safe characters.
func optOutToken(key []byte, tenantID string, id int64) string {
	b := make([]byte, 8, 8+optOutMACLen)
	binary.BigEndian.PutUint64(b, uint64(id))
	return base64.RawURLEncoding.EncodeToString(append(b, optOutMAC(key, tenantID, id)...))
}

// OptOutPath is the path of an opt-out link.
func OptOutPath(token string) string { return "/optout/" + token }

// OptOutURL is the customer's opt-out link under the public base URL.
func (s *Service) OptOutURL(ctx context.Context, c Customer) (string, error) {
	key, err := s.optOutKey(ctx)
	if err != nil {
		return "", err
	}
	return s.baseURL + OptOutPath(optOutToken(key, c.TenantID, c.ID)), nil
}

// OptOut is what the opt-out page shows: the company, and whether the
// customer already said no to marketing messages.
type OptOut struct {
	TenantID   string
	Company    string
	CustomerID string // the scheduler's id
	// Stopped: the customer's answer is no (given at StoppedAt).
	Stopped   bool
	StoppedAt *time.Time
	customer  int64
}

var errUnknownOptOut = apperror.NotFound("opt-out link not found")

// OptOutByToken resolves an opt-out token; a malformed, forged or unknown
// one (a customer no longer there) is not_found.
func (s *Service) OptOutByToken(ctx context.Context, token string) (OptOut, error) {
	return s.optOutByToken(s.store.Conn(ctx), ctx, token)
}

func (s *Service) optOutByToken(db *gorm.DB, ctx context.Context, token string) (OptOut, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(raw) != 8+optOutMACLen {
		return OptOut{}, errUnknownOptOut
	}
	id := int64(binary.BigEndian.Uint64(raw[:8]))
	var rows []struct {
		TenantID           string
		ExternalID         string
		Company            string
		ConsentMarketing   bool
		ConsentMarketingAt *time.Time
	}
	if err := db.Raw(`SELECT c.tenant_id, c.external_id, t.name AS company, c.consent_marketing, c.consent_marketing_at
		FROM customers c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = ?`, id).Scan(&rows).Error; err != nil {
		return OptOut{}, fmt.Errorf("read opt-out: %w", err)
	}
	if len(rows) == 0 {
		return OptOut{}, errUnknownOptOut
	}
	key, err := s.optOutKey(ctx)
	if err != nil {
		return OptOut{}, err
	}
	r := rows[0]
	if !hmac.Equal(raw[8:], optOutMAC(key, r.TenantID, id)) {
		return OptOut{}, errUnknownOptOut
	}
	return OptOut{TenantID: r.TenantID, Company: r.Company, CustomerID: r.ExternalID,
		Stopped: !r.ConsentMarketing && r.ConsentMarketingAt != nil, StoppedAt: r.ConsentMarketingAt, customer: id}, nil
}

// StopMarketing records, for the customer the token names, that they want
// no marketing messages: consent_marketing false as of now, and one
// customer.marketing_opt_out event in the same transaction. Doing it again
// changes nothing and announces nothing.
func (s *Service) StopMarketing(ctx context.Context, token string) (OptOut, error) {
	var out OptOut
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		o, err := s.optOutByToken(tx, ctx, token)
		if err != nil {
			return err
		}
		now := s.clock.Now().UTC().Truncate(time.Microsecond)
		var changed []struct {
			ExternalID string
			Email      string
			Phone      string
		}
		if err := tx.Raw(`UPDATE customers SET consent_marketing = FALSE, consent_marketing_at = ?, updated_at = ?
			WHERE id = ? AND tenant_id = ? AND (consent_marketing OR consent_marketing_at IS NULL)
			RETURNING external_id, email, phone`, now, s.clock.Now(), o.customer, o.TenantID).Scan(&changed).Error; err != nil {
			return fmt.Errorf("stop marketing: %w", err)
		}
		if len(changed) == 1 {
			o.Stopped, o.StoppedAt = true, &now
			if s.events != nil {
				c := changed[0]
				if err := s.events.Emit(tx, o.TenantID, EventMarketingOptOut, map[string]any{"customer_id": c.ExternalID,
					"email": c.Email, "phone": c.Phone, "consent_marketing": false, "consent_marketing_at": now}); err != nil {
					return err
				}
			}
		}
		out = o
		return nil
	})
	return out, err
}
