package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"

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
