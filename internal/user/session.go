package user

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/tenant"
)

// SessionLifetime is how long a sign-in lasts, however active: a working
// day and a bit. It is not extended by use.
const SessionLifetime = 12 * time.Hour

// Principal is the signed-in person a page request acts as.
type Principal struct {
	UserID     int64
	TenantID   string
	TenantName string
	Email      string
	Role       string
	// CrewMemberID is the crew member a crew login acts as (nil: none).
	CrewMemberID   *int64
	CrewMemberName string
	// CSRFToken must come back with every state-changing form of this session.
	CSRFToken string
	Location  *time.Location
	Currency  string
	ExpiresAt time.Time
}

// ErrNoSession is returned for a token that is unknown, expired or revoked,
// or whose user is disabled.
var ErrNoSession = &apperror.Error{Code: apperror.CodeUnauthorized, Message: "not signed in"}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// StartSession signs u in: it stores a new session and returns its token
// (32 random bytes, for the cookie; only its hash is stored). The user's
// long-expired sessions are cleared on the way.
func (s *Service) StartSession(ctx context.Context, u User) (string, time.Time, error) {
	token := randomToken()
	now := s.clock.Now()
	expires := now.Add(SessionLifetime)
	db := s.store.DB.WithContext(ctx)
	if err := db.Exec(`DELETE FROM sessions WHERE user_id = ? AND expires_at < ?`, u.ID, now.Add(-24*time.Hour)).Error; err != nil {
		return "", time.Time{}, fmt.Errorf("clear old sessions: %w", err)
	}
	err := db.Exec(`INSERT INTO sessions (token_hash, tenant_id, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		hashToken(token), u.TenantID, u.ID, randomToken(), now, expires).Error
	if err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	return token, expires, nil
}

// Session resolves a cookie's token to the signed-in principal, in one query.
func (s *Service) Session(ctx context.Context, token string) (Principal, error) {
	if token == "" || len(token) > 100 {
		return Principal{}, ErrNoSession
	}
	var rows []struct {
		UserID         int64
		TenantID       string
		CSRFToken      string
		ExpiresAt      time.Time
		RevokedAt      *time.Time
		Email          string
		Role           string
		CrewMemberID   *int64
		DisabledAt     *time.Time
		TenantName     string
		Timezone       string
		Currency       string
		CrewMemberName *string
	}
	err := s.store.DB.WithContext(ctx).Raw(`
		SELECT s.user_id, s.tenant_id, s.csrf_token, s.expires_at, s.revoked_at,
		       u.email, u.role, u.crew_member_id, u.disabled_at,
		       t.name AS tenant_name, t.timezone, t.currency, m.name AS crew_member_name
		FROM sessions s
		JOIN users u ON u.id = s.user_id
		JOIN tenants t ON t.id = s.tenant_id
		LEFT JOIN crew_members m ON m.id = u.crew_member_id
		WHERE s.token_hash = ?`, hashToken(token)).Scan(&rows).Error
	if err != nil {
		return Principal{}, fmt.Errorf("read session: %w", err)
	}
	if len(rows) != 1 {
		return Principal{}, ErrNoSession
	}
	r := rows[0]
	if r.RevokedAt != nil || r.DisabledAt != nil || !s.clock.Now().Before(r.ExpiresAt) {
		return Principal{}, ErrNoSession
	}
	loc, err := tenant.LoadLocation(r.Timezone) // cached: this runs on every signed-in request
	if err != nil {
		loc = time.UTC
	}
	p := Principal{UserID: r.UserID, TenantID: r.TenantID, TenantName: r.TenantName, Email: r.Email, Role: r.Role,
		CrewMemberID: r.CrewMemberID, CSRFToken: r.CSRFToken, Location: loc, Currency: r.Currency, ExpiresAt: r.ExpiresAt.UTC()}
	if r.CrewMemberName != nil {
		p.CrewMemberName = *r.CrewMemberName
	}
	return p, nil
}

// EndSession revokes the session (signing out); an unknown or already
// revoked token is no error.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	err := s.store.DB.WithContext(ctx).Exec(`UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL`,
		s.clock.Now(), hashToken(token)).Error
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
