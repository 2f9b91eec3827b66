package neighbor

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkNearbyCacheMemory reports the memory a tenant's copy takes per
// customer (external id, name and address of usual lengths), the figure
// nearby_cache_customers is documented with.
//
//	go test ./internal/neighbor -run x -bench NearbyCacheMemory -benchtime 3x
func BenchmarkNearbyCacheMemory(b *testing.B) {
	const n = 200_000
	rng := rand.New(rand.NewPCG(1, 2))
	var perCustomer float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rows := make([]stampedCustomer, n) // as readChanges returns them
		for k := range rows {
			rows[k] = stampedCustomer{HasLocation: true, cachedCustomer: cachedCustomer{ID: int64(k + 1),
				Lat: 45.35 + rng.Float64()*0.36, Lon: -122.85 + rng.Float64()*0.5,
				ExternalID: fmt.Sprintf("cust-%07d", k), Name: fmt.Sprintf("Customer %d", k),
				Address: fmt.Sprintf("%d Elm Street", k), ConsentSameDay: true}}
		}
		b.StartTimer()
		c := newNearbyCopy(cursor{version: 1}, locatedOnly(rows))
		b.StopTimer()
		rows = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		// what is left is the copy: its rows (sharing the strings read), the
		// index and the external-id map
		perCustomer = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(c)
	}
	b.ReportMetric(perCustomer, "bytes/customer")
}
