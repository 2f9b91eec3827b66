package referral

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/refcode"
)

// Landing is what a friend's landing page shows for a referral code.
type Landing struct {
	TenantID     string
	CompanyName  string
	ReferrerID   int64
	ReferrerName string // first name only: the page is public
	Code         string
	Offer        program.Offer
	ClickID      int64
	// SyncDiscountBps is the program's same-day discount (1000 = 10%),
	// what the same-day consent on the form offers.
	SyncDiscountBps int
}

// LinkChannel is the channel a link visit is recorded under: the link's
// ?ch= when it is one of refcode.LinkChannels, else link.
func LinkChannel(ch string) string {
	for _, c := range refcode.LinkChannels {
		if ch == c {
			return c
		}
	}
	return ChannelLink
}

// Landing resolves a referral code to its page; an unknown code is not_found.
func (s *Service) Landing(ctx context.Context, code string) (Landing, error) {
	c, ok := refcode.Normalize(code)
	if !ok {
		return Landing{}, apperror.NotFound("referral code not found")
	}
	var rows []struct {
		TenantID    string
		ID          int64
		Name        string
		CompanyName string
	}
	err := s.store.DB.WithContext(ctx).Raw(`SELECT c.tenant_id, c.id, c.name, t.name AS company_name
		FROM customers c JOIN tenants t ON t.id = c.tenant_id WHERE c.referral_code = ?`, c).Scan(&rows).Error
	if err != nil {
		return Landing{}, fmt.Errorf("find code: %w", err)
	}
	if len(rows) == 0 {
		return Landing{}, apperror.NotFound("referral code not found")
	}
	r := rows[0]
	prog, err := program.Get(s.store.DB.WithContext(ctx), r.TenantID)
	if err != nil {
		return Landing{}, err
	}
	first, _, _ := strings.Cut(strings.TrimSpace(r.Name), " ")
	offer, err := s.OfferFor(ctx, prog, r.ID)
	if err != nil {
		return Landing{}, err
	}
	return Landing{TenantID: r.TenantID, CompanyName: r.CompanyName, ReferrerID: r.ID, ReferrerName: first, Code: c,
		Offer: offer, SyncDiscountBps: prog.SyncDiscountBps}, nil
}

// OfferFor is the customer's offer variant as a referrer, assigned on first
// use (shown on a card, a landing page or a crew's script) and kept.
func (s *Service) OfferFor(ctx context.Context, prog program.Program, customerID int64) (program.Offer, error) {
	return program.OfferFor(ctx, s.store, prog, customerID, s.clock.Now())
}

// RecordVisit records a visit to a referral link: code, channel tag (see
// LinkChannel), the link's utm_* (see ParseUTM), time and a keyed hash of
// the visitor (never the IP itself).
func (s *Service) RecordVisit(ctx context.Context, l Landing, channel string, utm UTM, ip, userAgent string) (int64, error) {
	channel = LinkChannel(channel)
	key, err := s.store.Secret(ctx, "fingerprint")
	if err != nil {
		return 0, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(ip + "\x00" + userAgent))
	var id int64
	err = s.store.DB.WithContext(ctx).Raw(`INSERT INTO referral_clicks (tenant_id, referrer_id, channel, utm, fingerprint, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, l.TenantID, l.ReferrerID, channel, utm.stored(), hex.EncodeToString(mac.Sum(nil))[:32],
		s.clock.Now()).Scan(&id).Error
	if err != nil {
		return 0, fmt.Errorf("record link visit: %w", err)
	}
	return id, nil
}

// VisitCookie signs a link visit for the friend's browser.
func (s *Service) VisitCookie(ctx context.Context, clickID int64) (string, error) {
	key, err := s.store.Secret(ctx, "cookies")
	if err != nil {
		return "", err
	}
	v := fmt.Sprintf("%d.%d", clickID, s.clock.Now().Unix())
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(v))
	return v + "." + hex.EncodeToString(mac.Sum(nil))[:32], nil
}

// LinkVisit is a recorded visit to a referral link: what a referral made
// from it keeps.
type LinkVisit struct {
	ID      int64
	Channel string
	UTM     UTM
}

// AttributedVisit reads the cookie back: the link visit it names, if the
// signature holds, it was a visit to this referrer's link and it is within
// the program's attribution window; else nil.
func (s *Service) AttributedVisit(ctx context.Context, l Landing, cookie string) *LinkVisit {
	parts := strings.Split(cookie, ".")
	if len(parts) != 3 {
		return nil
	}
	key, err := s.store.Secret(ctx, "cookies")
	if err != nil {
		return nil
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))[:32]), []byte(parts[2])) {
		return nil
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	at, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return nil
	}
	prog, err := program.Get(s.store.DB.WithContext(ctx), l.TenantID)
	if err != nil || s.clock.Now().Sub(time.Unix(at, 0)) > time.Duration(prog.AttributionDays)*24*time.Hour {
		return nil
	}
	var rows []struct {
		Channel string
		UTM     string
	}
	s.store.DB.WithContext(ctx).Raw(`SELECT channel, utm FROM referral_clicks WHERE id = ? AND tenant_id = ? AND referrer_id = ?`,
		id, l.TenantID, l.ReferrerID).Scan(&rows)
	if len(rows) == 0 {
		return nil
	}
	return &LinkVisit{ID: id, Channel: LinkChannel(rows[0].Channel), UTM: readUTM(rows[0].UTM)}
}
