package ledger

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
)

// invoiceLineRow is an invoice joined with one of its lines.
type invoiceLineRow struct {
	ID            int64
	ExternalID    string
	PublicToken   string
	PayURL        string
	CustomerID    int64
	Status        string
	TermsSyncBps  *int
	TermsMaxBps   *int
	TermsSameCrew *bool
	SubtotalCents int64
	DiscountCents int64
	TotalCents    int64
	LineID        *int64
	LinePosition  *int
	LineKind      *string
	LineVisitID   *int64
	LineDesc      *string
	LineAmount    *int64
	LineReason    *string
	LineSourceKey *string
	LineItemKey   *string
}

const invoicesOf = `
SELECT i.id, i.external_id, i.public_token, i.pay_url, i.customer_id, i.status, i.terms_sync_bps, i.terms_max_bps, i.terms_same_crew,
       i.subtotal_cents, i.discount_cents, i.total_cents,
       l.id AS line_id, l.position AS line_position, l.kind AS line_kind, l.visit_id AS line_visit_id,
       l.description AS line_desc, l.amount_cents AS line_amount, l.reason AS line_reason,
       l.source_key AS line_source_key, l.item_key AS line_item_key
FROM invoices i LEFT JOIN invoice_lines l ON l.invoice_id = i.id
WHERE i.tenant_id = ? AND i.customer_id IN ? AND i.status <> 'void'
ORDER BY i.id, l.position`

// load reads everything the money of the given customers depends on.
func load(tx *gorm.DB, tenantID string, prog program.Program, customerIDs []int64) (map[int64]*customerFacts, *world, error) {
	cur := TermsOf(prog)
	facts := map[int64]*customerFacts{}
	for _, id := range customerIDs {
		facts[id] = &customerFacts{ID: id}
	}
	billedIDs := map[int64]bool{}
	for chunk := range slices.Chunk(customerIDs, store.MaxInList) {
		var rows []invoiceLineRow
		if err := tx.Raw(invoicesOf, tenantID, chunk).Scan(&rows).Error; err != nil {
			return nil, nil, fmt.Errorf("read invoices: %w", err)
		}
		var x *invoiceFacts
		for _, r := range rows {
			if x == nil || x.ID != r.ID {
				x = &invoiceFacts{ID: r.ID, ExternalID: r.ExternalID, PublicToken: r.PublicToken, PayURL: r.PayURL, Status: r.Status, Terms: cur,
					Subtotal: r.SubtotalCents, Discount: r.DiscountCents, Total: r.TotalCents}
				if r.TermsSyncBps != nil && r.TermsMaxBps != nil {
					x.Terms = Terms{SyncBps: *r.TermsSyncBps, MaxBps: *r.TermsMaxBps, SameCrew: r.TermsSameCrew != nil && *r.TermsSameCrew}
				}
				facts[r.CustomerID].Invoices = append(facts[r.CustomerID].Invoices, x)
			}
			if r.LineID == nil {
				continue
			}
			x.Lines = append(x.Lines, invoice.Line{ID: *r.LineID, TenantID: tenantID, InvoiceID: r.ID, Position: *r.LinePosition,
				Kind: *r.LineKind, VisitID: r.LineVisitID, Description: *r.LineDesc, AmountCents: *r.LineAmount,
				Reason: *r.LineReason, SourceKey: r.LineSourceKey, ItemKey: r.LineItemKey})
			if r.LineVisitID != nil {
				billedIDs[*r.LineVisitID] = true
			}
		}
	}
	w := &world{terms: cur, visits: map[int64]VisitRef{}, matches: map[bool]map[int64]Match{}, streets: map[int64]string{},
		invoiceIDs: map[int64]string{}}
	// Invoices that items name but that are not the customers' any more
	// (voided): their scheduler ids, for reasons.
	named := map[int64]bool{}
	for _, c := range facts {
		for _, x := range c.Invoices {
			w.invoiceIDs[x.ID] = x.ExternalID
		}
	}
	for _, c := range facts {
		for _, x := range c.Invoices {
			for _, l := range x.Lines {
				if l.ItemKey == nil {
					continue
				}
				if kind, _, inv, ok := parseKey(*l.ItemKey); ok && kind == KindSyncDiscount {
					if _, known := w.invoiceIDs[inv]; !known {
						named[inv] = true
					}
				}
			}
		}
	}
	for chunk := range slices.Chunk(slices.Collect(maps.Keys(named)), store.MaxInList) {
		var rows []struct {
			ID         int64
			ExternalID string
		}
		if err := tx.Raw(`SELECT id, external_id FROM invoices WHERE tenant_id = ? AND id IN ?`, tenantID, chunk).Scan(&rows).Error; err != nil {
			return nil, nil, fmt.Errorf("read invoices: %w", err)
		}
		for _, r := range rows {
			w.invoiceIDs[r.ID] = r.ExternalID
		}
	}
	for chunk := range slices.Chunk(slices.Collect(maps.Keys(billedIDs)), store.MaxInList) {
		var vs []VisitRef
		if err := tx.Raw(`SELECT id, customer_id, crew_id, service_date, status FROM visits WHERE tenant_id = ? AND id IN ?`,
			tenantID, chunk).Scan(&vs).Error; err != nil {
			return nil, nil, fmt.Errorf("read billed visits: %w", err)
		}
		for _, v := range vs {
			w.visits[v.ID] = v
		}
	}
	// Only a customer's own visits can be discounted on their invoices.
	var own []VisitRef
	days := map[localdate.Date]bool{}
	for _, v := range w.visits {
		if _, ok := facts[v.CustomerID]; ok {
			own = append(own, v)
			days[v.ServiceDate] = true
		}
	}
	sort.Slice(own, func(i, j int) bool { return own[i].ID < own[j].ID })
	links, err := LinksOf(tx, tenantID, customerIDs)
	if err != nil {
		return nil, nil, err
	}
	sameCrew := map[bool]bool{cur.SameCrew: true}
	for _, c := range facts {
		for _, x := range c.Invoices {
			if !x.draft() {
				sameCrew[x.Terms.SameCrew] = true
			}
		}
	}
	if len(links) == 0 || len(own) == 0 {
		for sc := range sameCrew {
			w.matches[sc] = map[int64]Match{}
		}
	} else {
		others := map[int64]bool{}
		for _, l := range links {
			others[l.CustomerAID], others[l.CustomerBID] = true, true
		}
		var theirs []VisitRef
		dayList := slices.Collect(maps.Keys(days))
		for chunk := range slices.Chunk(slices.Collect(maps.Keys(others)), store.MaxInList) {
			var vs []VisitRef
			if err := tx.Raw(`SELECT id, customer_id, crew_id, service_date, status FROM visits
				WHERE tenant_id = ? AND customer_id IN ? AND service_date IN ? AND status <> 'cancelled'`,
				tenantID, chunk, dayList).Scan(&vs).Error; err != nil {
				return nil, nil, fmt.Errorf("read neighbours' visits: %w", err)
			}
			theirs = append(theirs, vs...)
		}
		for sc := range sameCrew {
			w.matches[sc] = MatchSynced(own, links, theirs, sc)
		}
		neighbours := map[int64]bool{}
		for _, ms := range w.matches {
			for _, m := range ms {
				neighbours[m.NeighborID] = true
			}
		}
		for chunk := range slices.Chunk(slices.Collect(maps.Keys(neighbours)), store.MaxInList) {
			var rows []struct {
				ID      int64
				Address string
			}
			if err := tx.Raw(`SELECT id, address FROM customers WHERE tenant_id = ? AND id IN ?`, tenantID, chunk).Scan(&rows).Error; err != nil {
				return nil, nil, fmt.Errorf("read neighbours: %w", err)
			}
			for _, r := range rows {
				w.streets[r.ID] = Street(r.Address)
			}
		}
	}
	for chunk := range slices.Chunk(customerIDs, store.MaxInList) {
		var rs []struct {
			ID         int64
			CustomerID int64
			Kind       string
			Bps        int
			Points     int
			AddonName  string
			ValueCents int64
			Reason     string
		}
		if err := tx.Raw(`SELECT id, customer_id, kind, bps, points, addon_name, value_cents, reason FROM rewards
			WHERE tenant_id = ? AND customer_id IN ? AND status = 'granted' ORDER BY id`, tenantID, chunk).Scan(&rs).Error; err != nil {
			return nil, nil, fmt.Errorf("read rewards: %w", err)
		}
		for _, r := range rs {
			facts[r.CustomerID].Rewards = append(facts[r.CustomerID].Rewards, rewardFacts{ID: r.ID, Kind: r.Kind, Bps: r.Bps,
				Value: r.ValueCents, Points: r.Points, AddonName: r.AddonName, Reason: r.Reason})
		}
	}
	return facts, w, nil
}

// LinksOf returns every link (open or ended) of the given customers, by id.
func LinksOf(tx *gorm.DB, tenantID string, customerIDs []int64) ([]Link, error) {
	seen := map[int64]bool{}
	var out []Link
	for chunk := range slices.Chunk(customerIDs, store.MaxInList) {
		var ls []Link
		err := tx.Raw(`SELECT id, customer_a_id, customer_b_id, distance_m, starts_on, ends_on FROM neighbor_links
			WHERE tenant_id = ? AND (customer_a_id IN ? OR customer_b_id IN ?)`, tenantID, chunk, chunk).Scan(&ls).Error
		if err != nil {
			return nil, fmt.Errorf("read links: %w", err)
		}
		for _, l := range ls {
			if !seen[l.ID] {
				seen[l.ID] = true
				out = append(out, l)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Street is the first part of an address ("14 Maple St" of "14 Maple St,
// Portland"): what a discount reason names, never the neighbour's name.
func Street(address string) string {
	s, _, _ := strings.Cut(address, ",")
	if s = strings.TrimSpace(s); s == "" {
		return "your linked neighbour"
	}
	return s
}
