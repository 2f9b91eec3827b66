package storetest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/contact"
	"github.com/routeloop/routeloop/internal/store"
)

// BulkCustomers inserts n customers c0..c(n-1) of a tenant spread over a
// ~40 x 40 km metro area (Portland), with e-mails, US phone numbers,
// streets and cells filled in, using multi-row INSERTs. It is benchmark
// set-up, not a code path of the product.
func BulkCustomers(tb testing.TB, s *store.Store, tenantID string, n int, rng *rand.Rand) {
	tb.Helper()
	const batch = 500
	now := time.Now().UTC()
	for start := 0; start < n; start += batch {
		var sb strings.Builder
		var args []any
		sb.WriteString(`INSERT INTO customers (tenant_id, external_id, name, email, phone, address, lat, lon, geo_cell,
			consent_same_day, referral_code, email_norm, phone_norm, street_norm, name_norm, created_at, updated_at) VALUES `)
		for i := start; i < min(start+batch, n); i++ {
			if i > start {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
			p := geo.Point{Lat: 45.35 + rng.Float64()*0.36, Lon: -122.85 + rng.Float64()*0.5}
			name := fmt.Sprintf("Customer %d", i)
			email := fmt.Sprintf("customer%d@example.com", i)
			phone := fmt.Sprintf("+1503%07d", 2000000+i)
			street := fmt.Sprintf("%d Elm St", i)
			args = append(args, tenantID, fmt.Sprintf("c%d", i), name, email, phone, street, p.Lat, p.Lon, geo.Cell(p),
				true, fmt.Sprintf("B%s-%d", tenantID[:8], i), contact.Email(email), phone, contact.Street(street), contact.Name(name), now, now)
		}
		if err := s.DB.Exec(sb.String(), args...).Error; err != nil {
			tb.Fatal(err)
		}
	}
	if s.Dialect == store.Postgres {
		s.DB.Exec("ANALYZE customers")
	}
}
