package program

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/store"
)

// OfferTest names the offer A/B test in stored assignments.
const OfferTest = "offer"

// OfferOf returns the customer's offer variant, assigning it on first use:
// a stored assignment is read and kept however the offers are added to or
// re-weighted; without one, prefer (a variant the caller names, if the
// program has it) or else PickOffer is stored. Of two first uses at once one
// stores and both read that one (the table's key). Only when the owner has
// removed the stored variant is the customer assigned again among the
// current ones; referrals already made keep the rewards stored with them.
func OfferOf(tx *gorm.DB, p Program, customerID int64, prefer string, now time.Time) (Offer, error) {
	stored, err := storedVariant(tx, p.TenantID, customerID)
	if err != nil {
		return Offer{}, err
	}
	return OfferWith(tx, p, customerID, stored, prefer, now)
}

// StoredVariant is an SQL expression for the customer's stored variant
// (NULL when none), the customer's tenant and id being the columns
// tenantCol and idCol of the statement it is put in: what OfferWith is
// given when the customer was read in the same transaction.
func StoredVariant(tenantCol, idCol string) string {
	return `(SELECT oa.variant FROM offer_assignments oa WHERE oa.tenant_id = ` + tenantCol + ` AND oa.customer_id = ` + idCol +
		` AND oa.test = '` + OfferTest + `')`
}

// OfferWith is OfferOf with the customer's stored variant already read in
// the transaction (stored, nil when none; see StoredVariant).
func OfferWith(tx *gorm.DB, p Program, customerID int64, stored *string, prefer string, now time.Time) (Offer, error) {
	var err error
	if stored != nil {
		if o, ok := p.Offer(*stored); ok {
			return o, nil
		}
	}
	pick := p.PickOffer(customerID)
	if o, ok := p.Offer(prefer); ok && prefer != "" {
		pick = o
	}
	if stored == nil {
		err = tx.Exec(`INSERT INTO offer_assignments (tenant_id, customer_id, test, variant, assigned_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, customer_id, test) DO NOTHING`,
			p.TenantID, customerID, OfferTest, pick.Name, now, now).Error
	} else {
		err = tx.Exec(`UPDATE offer_assignments SET variant = ?, previous_variant = ?, updated_at = ?
			WHERE tenant_id = ? AND customer_id = ? AND test = ? AND variant = ?`,
			pick.Name, *stored, now, p.TenantID, customerID, OfferTest, *stored).Error
	}
	if err != nil {
		return Offer{}, fmt.Errorf("assign offer: %w", err)
	}
	// Read back what is stored: a concurrent first use may have won.
	if stored, err = storedVariant(tx, p.TenantID, customerID); err != nil {
		return Offer{}, err
	}
	if stored != nil {
		if o, ok := p.Offer(*stored); ok {
			return o, nil
		}
	}
	return pick, nil
}

func storedVariant(db *gorm.DB, tenantID string, customerID int64) (*string, error) {
	var vs []string
	if err := db.Raw(`SELECT variant FROM offer_assignments WHERE tenant_id = ? AND customer_id = ? AND test = ?`,
		tenantID, customerID, OfferTest).Scan(&vs).Error; err != nil {
		return nil, fmt.Errorf("read offer assignment: %w", err)
	}
	if len(vs) == 0 {
		return nil, nil
	}
	return &vs[0], nil
}

// OfferFor is OfferOf for pages and answers that show a customer their
// offer: a stored assignment is only read; the first one is stored in its
// own transaction.
func OfferFor(ctx context.Context, st *store.Store, p Program, customerID int64, now time.Time) (Offer, error) {
	stored, err := storedVariant(st.DB.WithContext(ctx), p.TenantID, customerID)
	if err != nil {
		return Offer{}, err
	}
	if stored != nil {
		if o, ok := p.Offer(*stored); ok {
			return o, nil
		}
	}
	var o Offer
	err = st.Tx(ctx, func(tx *gorm.DB) error {
		o, err = OfferOf(tx, p, customerID, "", now)
		return err
	})
	return o, err
}

// OfferJSON is an offer as a referral stores it (its promise).
func OfferJSON(o Offer) string {
	o.Weight = 0
	b, _ := json.Marshal(o)
	return string(b)
}

// PromisedOffer reads the offer a referral stored; ok is false when it
// stored none (made before offers were stored with referrals).
func PromisedOffer(stored string) (Offer, bool) {
	var o Offer
	if stored == "" || json.Unmarshal([]byte(stored), &o) != nil || o.Name == "" {
		return Offer{}, false
	}
	return o, true
}
