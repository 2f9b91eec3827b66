package neighbor

import (
	"context"
	"fmt"
	"math"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/events"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/text"
)

// LinkInput is the body of POST /neighbor-links.
type LinkInput struct {
	CustomerA string  `json:"customer_a"`
	CustomerB string  `json:"customer_b"`
	StartsOn  *string `json:"starts_on"`
	// FromRecords loads a link from the company's own history (the demo's
	// past weeks), written before the invoices of those days: it may start
	// before today. Never set from a request.
	FromRecords bool `json:"-"`
}

// CreateLink links two customers on a dispatcher's word. Both must have
// agreed to same-day service and live within the program radius; otherwise
// the answer says why. Linking a pair that is already linked returns the open
// link (not created).
func (s *Service) CreateLink(ctx context.Context, tenantID string, in LinkInput) (Link, store.Upserted, error) {
	f := apperror.Fields{}
	if in.CustomerA == "" {
		f.Add("customer_a", "is required")
	}
	if in.CustomerB == "" {
		f.Add("customer_b", "is required")
	}
	if in.CustomerA != "" && in.CustomerA == in.CustomerB {
		f.Add("customer_b", "a customer cannot be their own neighbour")
	}
	var startsOn *localdate.Date
	if in.StartsOn != nil {
		d, err := localdate.Parse(*in.StartsOn)
		if err != nil {
			f.Add("starts_on", err.Error())
		}
		startsOn = &d
	}
	if f.Err() == nil && startsOn != nil && !in.FromRecords {
		// A link never re-prices the past: it starts today or later.
		today, err := s.today(s.store.DB.WithContext(ctx), tenantID)
		if err != nil {
			return Link{}, store.Updated, err
		}
		if startsOn.Before(today) {
			f.Add("starts_on", fmt.Sprintf("must be today (%s) or later: a new link never changes invoices already sent", today))
		}
	}
	if err := f.Err(); err != nil {
		return Link{}, store.Updated, err
	}
	var (
		link Link
		up   store.Upserted
	)
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		a, err := customerByExternalID(tx, tenantID, in.CustomerA)
		if err != nil {
			return asField("customer_a", err)
		}
		b, err := customerByExternalID(tx, tenantID, in.CustomerB)
		if err != nil {
			return asField("customer_b", err)
		}
		if err := store.LockCustomers(tx, tenantID, a.ID, b.ID); err != nil {
			return err
		}
		// Read again under the lock: consent or location may just have changed.
		if a, err = customerByExternalID(tx, tenantID, in.CustomerA); err != nil {
			return err
		}
		if b, err = customerByExternalID(tx, tenantID, in.CustomerB); err != nil {
			return err
		}
		prog, err := program.Get(tx, tenantID)
		if err != nil {
			return err
		}
		dist, err := eligible(a, b, prog.NeighborRadiusM)
		if err != nil {
			return err
		}
		day := startsOn
		if day == nil {
			today, err := s.today(tx, tenantID)
			if err != nil {
				return err
			}
			day = &today
		}
		link, up, err = s.link(tx, tenantID, a.ID, b.ID, dist, SourceDispatcher, nil, *day)
		return err
	})
	if err != nil {
		return Link{}, store.Updated, err
	}
	link, err = s.Link(ctx, tenantID, link.ID)
	return link, up, err
}

// asField turns "customer X not found" into a validation error on field.
func asField(field string, err error) error {
	if ae, ok := apperror.As(err); ok && ae.Code == apperror.CodeNotFound {
		return apperror.Invalid(field, ae.Message)
	}
	return err
}

// eligible explains why two customers cannot be linked, or returns their
// distance in whole metres.
func eligible(a, b customerRow, radiusM int) (int, error) {
	for _, c := range []customerRow{a, b} {
		if !c.ConsentSameDay {
			return 0, apperror.Unprocessable("%s (%s) has not agreed to same-day service", c.Name, c.ExternalID)
		}
	}
	pa, okA := a.point()
	pb, okB := b.point()
	if !okA || !okB {
		return 0, apperror.Unprocessable("both customers need a location (lat, lon) to be linked")
	}
	d := int(math.Round(geo.DistanceM(pa, pb)))
	if d > radiusM {
		return 0, apperror.Unprocessable("%s and %s live %d m apart; the program links neighbours within %d m",
			a.ExternalID, b.ExternalID, d, radiusM)
	}
	return d, nil
}

// link creates the open link of a pair, or returns the one there is, and
// refreshes the discounts of both customers' invoices from startsOn.
func (s *Service) link(tx *gorm.DB, tenantID string, x, y int64, distM int, source string, referralID *int64, startsOn localdate.Date) (Link, store.Upserted, error) {
	a, b := pair(x, y)
	now := s.now()
	var rows []Link
	err := tx.Raw(`
		INSERT INTO neighbor_links (tenant_id, customer_a_id, customer_b_id, distance_m, source, referral_id,
		                            starts_on, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, customer_a_id, customer_b_id) WHERE ends_on IS NULL DO NOTHING
		RETURNING *`, tenantID, a, b, distM, source, referralID, startsOn, now, now).Scan(&rows).Error
	if err != nil {
		return Link{}, store.Updated, fmt.Errorf("insert link: %w", err)
	}
	if len(rows) == 0 {
		var open Link
		err := store.Tenant(tx, tenantID).Where("customer_a_id = ? AND customer_b_id = ? AND ends_on IS NULL", a, b).Take(&open).Error
		if err != nil {
			return Link{}, store.Updated, fmt.Errorf("read open link: %w", err)
		}
		return open, store.Updated, nil
	}
	l := rows[0]
	if err := tx.Exec(`UPDATE customers SET link_count = link_count + 1 WHERE tenant_id = ? AND id IN (?, ?)`, tenantID, a, b).Error; err != nil {
		return Link{}, store.Updated, fmt.Errorf("count link: %w", err)
	}
	if err := s.ledger.Refresh(tx, tenantID, a, b); err != nil {
		return Link{}, store.Updated, err
	}
	if err := s.events.Emit(tx, tenantID, events.NeighborLinkCreated, map[string]any{
		"link_id": l.ID, "distance_m": l.DistanceM, "source": l.Source, "starts_on": l.StartsOn,
	}); err != nil {
		return Link{}, store.Updated, err
	}
	return l, store.Created, nil
}

// LinkReferral links a referrer and the referee they brought in when the
// referral converts, if both agreed to same-day service and live within the
// program radius. It runs in the caller's transaction; linked is false with
// the reason when they cannot be linked (which is not an error).
func (s *Service) LinkReferral(tx *gorm.DB, tenantID string, referrerID, refereeID, referralID int64, on localdate.Date) (l Link, linked bool, reason string, err error) {
	cs, err := customersByID(tx, tenantID, []int64{referrerID, refereeID})
	if err != nil {
		return Link{}, false, "", err
	}
	a, okA := cs[referrerID]
	b, okB := cs[refereeID]
	if !okA || !okB {
		return Link{}, false, "", apperror.NotFound("customer not found")
	}
	prog, err := program.Get(tx, tenantID)
	if err != nil {
		return Link{}, false, "", err
	}
	dist, err := eligible(a, b, prog.NeighborRadiusM)
	if err != nil {
		if ae, ok := apperror.As(err); ok {
			return Link{}, false, ae.Message, nil
		}
		return Link{}, false, "", err
	}
	l, _, err = s.link(tx, tenantID, a.ID, b.ID, dist, SourceReferral, &referralID, on)
	return l, err == nil, "", err
}

// EndInput is the query of DELETE /neighbor-links/{id}.
type EndInput struct {
	EndsOn string
	Reason string
}

// EndLink ends a link on a day (default today; for a link that has not
// begun, its first day): from that day on, visits of the pair are no longer
// synced. A later end date is refused: the link holds until it is ended. The link stays as history; ending it again
// changes nothing.
func (s *Service) EndLink(ctx context.Context, tenantID string, linkID int64, in EndInput) (Link, error) {
	var endsOn *localdate.Date
	if in.EndsOn != "" {
		d, err := localdate.Parse(in.EndsOn)
		if err != nil {
			return Link{}, apperror.Invalid("ends_on", err.Error())
		}
		endsOn = &d
	}
	if err := text.Invalid("reason", in.Reason, text.Free, 300); err != nil {
		return Link{}, err
	}
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		var ls []Link
		if err := store.Tenant(tx, tenantID).Where("id = ?", linkID).Limit(1).Find(&ls).Error; err != nil {
			return fmt.Errorf("read link: %w", err)
		}
		if len(ls) == 0 {
			return apperror.NotFound("neighbour link %d not found", linkID)
		}
		// Customers first, then the link (the one lock order).
		if err := store.LockCustomers(tx, tenantID, ls[0].CustomerAID, ls[0].CustomerBID); err != nil {
			return err
		}
		if err := store.LockRows(store.Tenant(tx, tenantID)).Where("id = ?", linkID).Limit(1).Find(&ls).Error; err != nil {
			return fmt.Errorf("read link: %w", err)
		}
		l := ls[0]
		if l.EndsOn != nil {
			return nil
		}
		today, err := s.today(tx, tenantID)
		if err != nil {
			return err
		}
		// A link that has not begun yet ends on its first day: it never holds.
		latest := today
		if latest.Before(l.StartsOn) {
			latest = l.StartsOn
		}
		day := latest
		if endsOn != nil {
			day = *endsOn
		}
		if day.Before(l.StartsOn) || day.After(latest) {
			return apperror.Invalid("ends_on", fmt.Sprintf("must be between the link's start %s and %s", l.StartsOn, latest))
		}
		reason := in.Reason
		if reason == "" {
			reason = "ended by a dispatcher"
		}
		return s.end(tx, tenantID, l, day, reason)
	})
	if err != nil {
		return Link{}, err
	}
	return s.Link(ctx, tenantID, linkID)
}

func (s *Service) end(tx *gorm.DB, tenantID string, l Link, day localdate.Date, reason string) error {
	if err := s.endOnly(tx, tenantID, l, day, reason); err != nil {
		return err
	}
	return s.ledger.Refresh(tx, tenantID, l.CustomerAID, l.CustomerBID)
}

// endOnly ends the link without re-working the money (the caller does).
func (s *Service) endOnly(tx *gorm.DB, tenantID string, l Link, day localdate.Date, reason string) error {
	err := tx.Exec(`UPDATE neighbor_links SET ends_on = ?, end_reason = ?, updated_at = ? WHERE id = ? AND tenant_id = ?`,
		day, reason, s.now(), l.ID, tenantID).Error
	if err != nil {
		return fmt.Errorf("end link: %w", err)
	}
	return nil
}

// CustomerChanged ends, inside the customer write's transaction, the
// customer's open links that no longer hold: consent to same-day service
// withdrawn, the location removed, or a move beyond the radius. Links still
// within it get the new distance (the reasons on drafts name it).
func (s *Service) CustomerChanged(tx *gorm.DB, ch mirror.CustomerChange) error {
	c := ch.Customer
	if ch.Created || c.LinkCount == 0 {
		return nil // a new customer, or one never linked, has no links
	}
	var open []Link
	if err := store.Tenant(tx, c.TenantID).Where("(customer_a_id = ? OR customer_b_id = ?) AND ends_on IS NULL", c.ID, c.ID).Find(&open).Error; err != nil {
		return fmt.Errorf("read links: %w", err)
	}
	if len(open) == 0 {
		return nil
	}
	prog, err := program.Get(tx, c.TenantID)
	if err != nil {
		return err
	}
	today, err := s.today(tx, c.TenantID)
	if err != nil {
		return err
	}
	others := make([]int64, len(open))
	for i, l := range open {
		others[i] = l.Other(c.ID)
	}
	cs, err := customersByID(tx, c.TenantID, others)
	if err != nil {
		return err
	}
	me := customerRow{ID: c.ID, ExternalID: c.ExternalID, Name: c.Name, Address: c.Address, Lat: c.Lat, Lon: c.Lon, ConsentSameDay: c.ConsentSameDay}
	for _, l := range open {
		dist, err := eligible(me, cs[l.Other(c.ID)], prog.NeighborRadiusM)
		if err == nil {
			if dist != l.DistanceM {
				if err := tx.Exec(`UPDATE neighbor_links SET distance_m = ?, updated_at = ? WHERE id = ?`, dist, s.now(), l.ID).Error; err != nil {
					return fmt.Errorf("update distance: %w", err)
				}
			}
			continue
		}
		ae, ok := apperror.As(err)
		if !ok {
			return err
		}
		day := today
		if day.Before(l.StartsOn) {
			day = l.StartsOn
		}
		if err := s.endOnly(tx, c.TenantID, l, day, ae.Message); err != nil {
			return err
		}
	}
	// The street or the distance on reasons may have changed too.
	return s.ledger.Refresh(tx, c.TenantID, append(others, c.ID)...)
}

// Link returns one link with its customers' scheduler ids.
func (s *Service) Link(ctx context.Context, tenantID string, id int64) (Link, error) {
	ls, err := s.links(s.store.DB.WithContext(ctx), tenantID, "l.id = ?", id)
	if err != nil {
		return Link{}, err
	}
	if len(ls) == 0 {
		return Link{}, apperror.NotFound("neighbour link %d not found", id)
	}
	return ls[0], nil
}

// LinkFilter narrows a link list.
type LinkFilter struct {
	CustomerID string // scheduler id
	ActiveOn   *localdate.Date
}

// Links lists links, newest first.
func (s *Service) Links(ctx context.Context, tenantID string, f LinkFilter, p store.Page) ([]Link, string, error) {
	cond, args := "1 = 1", []any{}
	if f.CustomerID != "" {
		cond, args = "(ca.external_id = ? OR cb.external_id = ?)", []any{f.CustomerID, f.CustomerID}
	}
	if f.ActiveOn != nil {
		cond += " AND l.starts_on <= ? AND (l.ends_on IS NULL OR l.ends_on > ?)"
		args = append(args, *f.ActiveOn, *f.ActiveOn)
	}
	if p.After > 0 {
		cond += " AND l.id < ?"
		args = append(args, p.After)
	}
	ls, err := s.links(s.store.DB.WithContext(ctx).Limit(p.Limit), tenantID, cond, args...)
	if err != nil {
		return nil, "", err
	}
	var last int64
	if len(ls) > 0 {
		last = ls[len(ls)-1].ID
	}
	return ls, p.Next(len(ls), last), nil
}

func (s *Service) links(db *gorm.DB, tenantID, cond string, args ...any) ([]Link, error) {
	var ls []Link
	err := db.Table("neighbor_links AS l").
		Select("l.*, ca.external_id AS customer_a, cb.external_id AS customer_b").
		Joins("JOIN customers ca ON ca.id = l.customer_a_id").
		Joins("JOIN customers cb ON cb.id = l.customer_b_id").
		Where("l.tenant_id = ?", tenantID).Where(cond, args...).
		Order("l.id DESC").Scan(&ls).Error
	if err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	return ls, nil
}
