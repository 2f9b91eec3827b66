package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// BenchmarkGetInvoice measures GET /api/v1/invoices/{id} through the whole
// HTTP stack (auth, query, JSON), on each database.
func BenchmarkGetInvoice(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			t := &testing.T{}
			h := newHarness(t, storetest.Open(b, d))
			h.seed(h.keys[tenant.RoleAdmin], "")
			key := h.keys[tenant.RoleAdmin]
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("GET", "/api/v1/invoices/inv1", nil)
					req.Header.Set("Authorization", "Bearer "+key)
					rec := httptest.NewRecorder()
					h.app.HTTP.ServeHTTP(rec, req)
					if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"total_cents":4500`) {
						b.Fatalf("%d %s", rec.Code, rec.Body.String())
					}
				}
			})
		})
	}
}

// BenchmarkNearby measures GET /api/v1/customers/{id}/nearby (500 m, 50 at
// most) through the whole HTTP stack for a tenant with 200,000 customers on
// PostgreSQL, the shape of ../shared/bench/nearby-vs-postgis.sh without the
// network.
//
//	go test ./internal/httpapi -run x -bench Nearby -benchtime 5000x
func BenchmarkNearby(b *testing.B) {
	t := &testing.T{}
	h := newHarness(t, storetest.Open(b, store.Postgres))
	const n = 200_000
	storetest.BulkCustomers(b, h.store, h.greenway, n, rand.New(rand.NewPCG(7, 7)))
	key := h.keys[tenant.RoleAdmin]
	// The first search loads the tenant's copy in the background; measure
	// once it is held, as a running server is.
	for h.app.Neighbors.NearbyHeld() < n {
		req := httptest.NewRequest("GET", "/api/v1/customers/c1/nearby?radius_m=500&limit=50", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		h.app.HTTP.ServeHTTP(httptest.NewRecorder(), req)
		time.Sleep(10 * time.Millisecond)
	}
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1) * 7919 % n
			req := httptest.NewRequest("GET", fmt.Sprintf("/api/v1/customers/c%d/nearby?radius_m=500&limit=50", i), nil)
			req.Header.Set("Authorization", "Bearer "+key)
			rec := httptest.NewRecorder()
			h.app.HTTP.ServeHTTP(rec, req)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"customers":[`) {
				b.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
		}
	})
}
