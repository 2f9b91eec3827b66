package mirror

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/contact"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/store"
)

// Customer is a household the company serves.
type Customer struct {
	ID             int64    `json:"-"`
	TenantID       string   `json:"-"`
	ExternalID     string   `json:"external_id"`
	Name           string   `json:"name"`
	Email          string   `json:"email"`
	Phone          string   `json:"phone"`
	Address        string   `json:"address"`
	Lat            *float64 `json:"lat"`
	Lon            *float64 `json:"lon"`
	ConsentSameDay bool     `json:"consent_same_day"`
	// ConsentMarketing: whether the customer may be sent marketing
	// messages; ConsentMarketingAt is when that answer was given (nil:
	// never asked).
	ConsentMarketing   bool       `json:"consent_marketing"`
	ConsentMarketingAt *time.Time `json:"consent_marketing_at"`
	GeoCell            *int64     `json:"-"`
	ReferralCode       string     `json:"referral_code"`
	ReferralURL        string     `json:"referral_url" gorm:"-"`
	// OutsideServiceArea flags a customer whose location lies outside every
	// service area of the program (false when none are defined).
	OutsideServiceArea bool      `json:"outside_service_area" gorm:"-"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	// LinkCount is how many neighbour links the customer was ever given
	// (ended ones too): 0 says they have none, open or ended. Only read.
	LinkCount int `json:"-" gorm:"->"`
}

// Location returns the customer's point, if known.
func (c Customer) Location() (geo.Point, bool) {
	if c.Lat == nil || c.Lon == nil {
		return geo.Point{}, false
	}
	return geo.Point{Lat: *c.Lat, Lon: *c.Lon}, true
}

// CustomerInput is the body of PUT /customers/{external_id}.
//
// The consents are statements the scheduler may leave out. A consent left
// out keeps what is stored; a new customer starts without it (false),
// unless the friend's landing form gave it (see CustomerChange): the
// friend's ticks fill only what the creating write leaves out, and
// whatever the scheduler states, then or later, wins.
type CustomerInput struct {
	Name           string   `json:"name"`
	Email          string   `json:"email"`
	Phone          string   `json:"phone"`
	Address        string   `json:"address"`
	Lat            *float64 `json:"lat"`
	Lon            *float64 `json:"lon"`
	ConsentSameDay bool     `json:"consent_same_day"`
	// SameDayOmitted says ConsentSameDay was not stated: the JSON body left
	// consent_same_day out or sent null (CustomerJSON sets it). Go callers
	// that leave it false state ConsentSameDay, as before.
	SameDayOmitted bool `json:"-"`
	// ConsentMarketing is the customer's answer to marketing messages; nil
	// leaves it unstated. A statement older (updated_at) than the stored
	// answer — an opt-out the customer made since — does not change it.
	ConsentMarketing *bool `json:"consent_marketing"`
	// UpdatedAt is when the scheduler changed it; a write older than the
	// stored one is ignored (deliveries may arrive out of order).
	UpdatedAt *time.Time `json:"updated_at"`
}

// CustomerJSON is a CustomerInput as JSON carries it (the PUT body, the
// data of a customer.upserted webhook): it tells a consent_same_day left
// out, or null, from one sent false.
type CustomerJSON struct {
	CustomerInput
	ConsentSameDay *bool `json:"consent_same_day"`
}

// Input is the body as a CustomerInput.
func (b CustomerJSON) Input() CustomerInput {
	in := b.CustomerInput
	in.ConsentSameDay = b.ConsentSameDay != nil && *b.ConsentSameDay
	in.SameDayOmitted = b.ConsentSameDay == nil
	return in
}

// Validate checks the input and normalises it in place.
func (in *CustomerInput) Validate() error {
	f := apperror.Fields{}
	in.Name = strings.TrimSpace(in.Name)
	in.Email = strings.TrimSpace(in.Email)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Address = strings.TrimSpace(in.Address)
	checkText(f, "name", in.Name, true, 200)
	checkText(f, "address", in.Address, false, 300)
	checkText(f, "phone", in.Phone, false, 40)
	checkEmail(f, "email", in.Email)
	if (in.Lat == nil) != (in.Lon == nil) {
		f.Add("lat", "lat and lon must be given together")
	}
	if in.Lat != nil {
		if err := geo.CheckLat(*in.Lat); err != nil {
			f.Add("lat", err.Error())
		}
	}
	if in.Lon != nil {
		if err := geo.CheckLon(*in.Lon); err != nil {
			f.Add("lon", err.Error())
		}
	}
	return f.Err()
}

// present fills what a customer answer derives: the referral link and the
// service-area flag.
func (s *Service) present(prog program.Program, c Customer) Customer {
	c.ReferralURL = refcode.URL(s.baseURL, c.ReferralCode)
	if p, ok := c.Location(); ok {
		c.OutsideServiceArea = prog.OutsideServiceArea(&p)
	}
	return c
}

func (s *Service) program(db *gorm.DB, tenantID string) (program.Program, error) {
	return program.Get(db, tenantID)
}

// lockCustomerMoney takes, for a write of the customer the scheduler calls
// externalID, the lock LockMoney takes for it (the customer and everyone
// linked to it, in id order, on PostgreSQL), finding the customer in the
// same statement, and reports whether it exists.
func lockCustomerMoney(tx *gorm.DB, tenantID, externalID string) (bool, error) {
	if tx.Dialector.Name() != store.Postgres {
		var ids []int64
		if err := tx.Raw(`SELECT id FROM customers WHERE tenant_id = ? AND external_id = ?`, tenantID, externalID).Scan(&ids).Error; err != nil {
			return false, fmt.Errorf("read customer: %w", err)
		}
		return len(ids) > 0, nil
	}
	rows, err := store.Query(tx, `WITH me AS (SELECT id FROM customers WHERE tenant_id = ? AND external_id = ?)
		SELECT id IN (SELECT id FROM me) AS own FROM customers WHERE tenant_id = ? AND (id IN (SELECT id FROM me)
		    OR id IN (SELECT customer_a_id FROM neighbor_links WHERE tenant_id = ? AND customer_b_id IN (SELECT id FROM me))
		    OR id IN (SELECT customer_b_id FROM neighbor_links WHERE tenant_id = ? AND customer_a_id IN (SELECT id FROM me)))
		ORDER BY id FOR UPDATE`, tenantID, externalID, tenantID, tenantID, tenantID)
	if err != nil {
		return false, fmt.Errorf("lock customers and their neighbours: %w", err)
	}
	defer rows.Close()
	exists := false
	for rows.Next() {
		var own bool
		if err := rows.Scan(&own); err != nil {
			return false, fmt.Errorf("lock customers and their neighbours: %w", err)
		}
		exists = exists || own
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("lock customers and their neighbours: %w", err)
	}
	return exists, nil
}

// CheckCustomer runs every check PutCustomer makes of a body before it
// writes — the fields' own rules and the phone for the company's country —
// without writing or changing in.
func (s *Service) CheckCustomer(ctx context.Context, tenantID string, in CustomerInput) error {
	_, err := s.checkCustomer(s.store.Conn(ctx), tenantID, &in)
	return err
}

// checkCustomer validates and normalises in, and answers the program the
// phone was checked against.
func (s *Service) checkCustomer(db *gorm.DB, tenantID string, in *CustomerInput) (program.Program, error) {
	if err := in.Validate(); err != nil {
		return program.Program{}, err
	}
	prog, err := s.program(db, tenantID)
	if err != nil {
		return program.Program{}, err
	}
	if err := contact.CheckPhone(in.Phone, prog.Country); err != nil {
		return program.Program{}, apperror.Invalid("phone", err.Error())
	}
	return prog, nil
}

// PutCustomer creates or updates the customer the scheduler calls externalID.
// A new customer gets a referral code that never changes afterwards.
func (s *Service) PutCustomer(ctx context.Context, tenantID, externalID string, in CustomerInput) (Customer, store.Upserted, error) {
	if err := CheckExternalID(externalID); err != nil {
		return Customer{}, store.Updated, apperror.Invalid("external_id", err.Error())
	}
	db := s.store.Conn(ctx)
	now := s.clock.Now()
	prog, err := s.checkCustomer(db, tenantID, &in)
	if err != nil {
		return Customer{}, store.Updated, err
	}
	norm := []any{contact.Email(in.Email), contact.Phone(in.Phone, prog.Country), contact.Street(in.Address), contact.Name(in.Name)}
	var cell *int64
	if in.Lat != nil {
		c := geo.Cell(geo.Point{Lat: *in.Lat, Lon: *in.Lon})
		cell = &c
	}
	for attempt := 0; ; attempt++ {
		var (
			c  Customer
			up store.Upserted
		)
		err := s.store.Tx(ctx, func(tx *gorm.DB) error {
			exists, err := lockCustomerMoney(tx, tenantID, externalID)
			if err != nil {
				return err
			}
			sameDay := &in.ConsentSameDay // nil: keep the stored answer
			if in.SameDayOmitted {
				sameDay = nil
			}
			mSet, mArgs := marketingSet(in, now)
			var marketing bool
			var marketingAt any
			if in.ConsentMarketing != nil {
				marketing, marketingAt = *in.ConsentMarketing, statedAt(in, now)
			}
			insertSQL := `
			INSERT INTO customers (tenant_id, external_id, name, email, phone, address, lat, lon, geo_cell,
			                       consent_same_day, consent_marketing, consent_marketing_at, referral_code,
			                       email_norm, phone_norm, street_norm, name_norm, source_updated_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, external_id) DO NOTHING
			RETURNING *`
			updateSQL := `
			UPDATE customers SET name = ?, email = ?, phone = ?, address = ?, lat = ?, lon = ?, geo_cell = ?,
			       consent_same_day = COALESCE(?, consent_same_day), ` + mSet + `email_norm = ?, phone_norm = ?, street_norm = ?, name_norm = ?,
			       source_updated_at = COALESCE(?, source_updated_at), updated_at = ?
			WHERE tenant_id = ? AND external_id = ?` + newerOnly(in.UpdatedAt) + `
			RETURNING *`
			updateArgs := append(append(append(append([]any{in.Name, in.Email, in.Phone, in.Address, in.Lat, in.Lon, cell, sameDay}, mArgs...), norm...),
				utc(in.UpdatedAt), now, tenantID, externalID), newerArgs(in.UpdatedAt)...)
			if exists { // customers are never deleted: no insert to try
				c, up, err = store.Update[Customer](tx, updateSQL, updateArgs)
			} else {
				c, up, err = store.Upsert[Customer](tx, insertSQL,
					append(append([]any{tenantID, externalID, in.Name, in.Email, in.Phone, in.Address, in.Lat, in.Lon, cell,
						in.ConsentSameDay && !in.SameDayOmitted, marketing, marketingAt, refcode.New()}, norm...), utc(in.UpdatedAt), now, now),
					updateSQL, updateArgs)
			}
			if err != nil {
				return err
			}
			ch := CustomerChange{Customer: c, Created: up == store.Created, SameDayOmitted: in.SameDayOmitted,
				MarketingOmitted: in.ConsentMarketing == nil}
			for _, fn := range s.onCustomer {
				if err := fn(tx, ch); err != nil {
					return err
				}
			}
			if ch.Created && (ch.SameDayOmitted || ch.MarketingOmitted) {
				// A listener may have filled a consent the write left out
				// (the friend's ticks): answer what is stored.
				if err := tx.Where("id = ?", c.ID).Take(&c).Error; err != nil {
					return fmt.Errorf("read customer: %w", err)
				}
			}
			return nil
		})
		// A fresh code collided with another customer's: draw again.
		if store.IsUniqueViolation(err) && attempt < 5 {
			continue
		}
		if errors.Is(err, store.ErrStale) {
			cur, err := s.Customer(ctx, tenantID, externalID)
			return cur, store.Stale, err
		}
		if err != nil {
			return Customer{}, store.Updated, fmt.Errorf("put customer %s: %w", externalID, err)
		}
		return s.present(prog, c), up, nil
	}
}

// statedAt is when a write's statement was made: the scheduler's change
// time, else now (UTC, as stored).
func statedAt(in CustomerInput, now time.Time) any {
	if in.UpdatedAt != nil {
		return utc(in.UpdatedAt)
	}
	return utc(&now)
}

// marketingSet is the SET part (and its arguments) by which an update
// takes the write's marketing consent: none when the write leaves it out;
// kept when the write's change time is older than the stored answer (the
// customer opted out since); consent_marketing_at moves only when the
// answer changes or was never given.
func marketingSet(in CustomerInput, now time.Time) (string, []any) {
	if in.ConsentMarketing == nil {
		return "", nil
	}
	m, at := *in.ConsentMarketing, statedAt(in, now)
	if in.UpdatedAt == nil {
		return `consent_marketing_at = CASE WHEN consent_marketing <> ? OR consent_marketing_at IS NULL THEN ? ELSE consent_marketing_at END,
			consent_marketing = ?, `, []any{m, at, m}
	}
	newer := `(consent_marketing_at IS NULL OR consent_marketing_at <= ?)`
	return `consent_marketing_at = CASE WHEN ` + newer + ` AND (consent_marketing <> ? OR consent_marketing_at IS NULL) THEN ? ELSE consent_marketing_at END,
			consent_marketing = CASE WHEN ` + newer + ` THEN ? ELSE consent_marketing END, `, []any{at, m, at, at, m}
}

// ReferralLinks are a customer's referral code and links: the plain link
// and one marked for each channel it may be handed out through, and their
// marketing opt-out link.
type ReferralLinks struct {
	CustomerID string            `json:"customer_id"`
	Code       string            `json:"code"`
	URL        string            `json:"url"`
	Links      map[string]string `json:"links"`
	// OptOutURL is left out for crew keys (see the API).
	OptOutURL string `json:"opt_out_url,omitempty"`
}

// ReferralLinks answers the customer's links; an unknown customer (or
// another tenant's) is not_found.
func (s *Service) ReferralLinks(ctx context.Context, tenantID, externalID string) (ReferralLinks, error) {
	c, err := s.Customer(ctx, tenantID, externalID)
	if err != nil {
		return ReferralLinks{}, err
	}
	out := ReferralLinks{CustomerID: c.ExternalID, Code: c.ReferralCode, URL: c.ReferralURL, Links: map[string]string{}}
	for _, ch := range refcode.LinkChannels {
		out.Links[ch] = refcode.WithChannel(c.ReferralURL, ch)
	}
	if out.OptOutURL, err = s.OptOutURL(ctx, c); err != nil {
		return ReferralLinks{}, err
	}
	return out, nil
}

// Customer returns one customer by the scheduler's id.
func (s *Service) Customer(ctx context.Context, tenantID, externalID string) (Customer, error) {
	var c Customer
	err := store.Tenant(s.store.Conn(ctx), tenantID).Where("external_id = ?", externalID).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, apperror.NotFound("customer %s not found", externalID)
	}
	if err != nil {
		return c, fmt.Errorf("get customer: %w", err)
	}
	prog, err := s.program(s.store.Conn(ctx), tenantID)
	if err != nil {
		return c, err
	}
	return s.present(prog, c), nil
}

// CustomerFilter narrows a customer list.
type CustomerFilter struct {
	UpdatedSince *time.Time
	// OnRoutesOf keeps the customers with a visit of this crew (internal
	// id; 0: every customer): what a crew-bound key sees.
	OnRoutesOf int64
}

// Customers lists customers in id order, one page at a time.
func (s *Service) Customers(ctx context.Context, tenantID string, f CustomerFilter, p store.Page) ([]Customer, string, error) {
	q := store.Tenant(s.store.Conn(ctx), tenantID).Where("id > ?", p.After)
	if f.UpdatedSince != nil {
		q = q.Where("updated_at >= ?", f.UpdatedSince.UTC())
	}
	if f.OnRoutesOf != 0 {
		q = q.Where(onRoutes, f.OnRoutesOf)
	}
	var cs []Customer
	if err := q.Order("id").Limit(p.Limit).Find(&cs).Error; err != nil {
		return nil, "", fmt.Errorf("list customers: %w", err)
	}
	prog, err := s.program(s.store.Conn(ctx), tenantID)
	if err != nil {
		return nil, "", err
	}
	var last int64
	for i := range cs {
		cs[i] = s.present(prog, cs[i])
		last = cs[i].ID
	}
	return cs, p.Next(len(cs), last), nil
}

// customerIDs resolves scheduler ids to internal ids within a tenant.
func customerIDs(db *gorm.DB, tenantID string, externalIDs []string) (map[string]int64, error) {
	var rows []struct {
		ID         int64
		ExternalID string
	}
	if err := store.Tenant(db, tenantID).Table("customers").Select("id, external_id").
		Where("external_id IN ?", externalIDs).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("resolve customers: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.ExternalID] = r.ID
	}
	return out, nil
}

// CustomerID resolves one scheduler id to the internal id, or not_found.
func (s *Service) CustomerID(ctx context.Context, tenantID, externalID string) (int64, error) {
	ids, err := customerIDs(s.store.Conn(ctx), tenantID, []string{externalID})
	if err != nil {
		return 0, err
	}
	id, ok := ids[externalID]
	if !ok {
		return 0, apperror.NotFound("customer %s not found", externalID)
	}
	return id, nil
}

// BackfillCells gives customers stored before cells existed their cell id,
// so nearby searches find them. It returns how many it updated.
func BackfillCells(ctx context.Context, s *store.Store) (int, error) {
	db := s.DB.WithContext(ctx)
	total := 0
	for {
		var rows []struct {
			ID       int64
			Lat, Lon float64
		}
		if err := db.Raw(`SELECT id, lat, lon FROM customers WHERE geo_cell IS NULL AND lat IS NOT NULL AND lon IS NOT NULL LIMIT 1000`).Scan(&rows).Error; err != nil {
			return total, fmt.Errorf("backfill cells: %w", err)
		}
		if len(rows) == 0 {
			return total, nil
		}
		err := s.Tx(ctx, func(tx *gorm.DB) error {
			for _, r := range rows {
				if err := tx.Exec(`UPDATE customers SET geo_cell = ? WHERE id = ?`, geo.Cell(geo.Point{Lat: r.Lat, Lon: r.Lon}), r.ID).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("backfill cells: %w", err)
		}
		total += len(rows)
	}
}
