package neighbor_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// twoReplicas wires two routeloop processes over one database, the way two
// replicas behind a load balancer share it, and creates a tenant.
func twoReplicas(t *testing.T, s *store.Store, cfg config.Config) (a, b *app.App, tenantID string) {
	t.Helper()
	c := clock.NewFixed(time.Date(2026, 5, 1, 15, 0, 0, 0, time.UTC))
	a = app.Wire(cfg, s, c, slog.New(slog.DiscardHandler))
	b = app.Wire(cfg, s, c, slog.New(slog.DiscardHandler))
	ten := apptest.Tenant(t, a.Tenants, tenant.NewTenant{Name: "Nearby Lawns", Timezone: "America/Los_Angeles", Currency: "USD"})
	return a, b, ten.ID
}

// street puts customer id at a random point of a ~2 km square (or nowhere).
func street(t *testing.T, a *app.App, tenantID, id string, rng *rand.Rand, located bool) mirror.CustomerInput {
	t.Helper()
	in := streetInput(id, rng, located)
	if _, _, err := a.Mirror.PutCustomer(context.Background(), tenantID, id, in); err != nil {
		t.Fatal(err)
	}
	return in
}

// streetInput is a customer at a random point of a ~2 km square (or nowhere).
func streetInput(id string, rng *rand.Rand, located bool) mirror.CustomerInput {
	in := mirror.CustomerInput{Name: "Customer " + id, Address: fmt.Sprintf("%d Oak St", rng.IntN(900)),
		ConsentSameDay: rng.IntN(3) != 0}
	if located {
		lat, lon := 45.50+rng.Float64()*0.018, -122.65+rng.Float64()*0.026
		if rng.IntN(8) == 0 { // a few share a building
			lat, lon = 45.505, -122.64
		}
		in.Lat, in.Lon = &lat, &lon
	}
	return in
}

// TestNearbyFromMemoryEqualsTheDatabase changes random customers — moved,
// renamed, losing and regaining their location, new ones, consent given and
// withdrawn, the same values sent again — half of the changes through
// another replica, and after every round asks both ways for random
// customers, radii and limits: the copy in memory answers, and answers
// exactly what the database does.
func TestNearbyFromMemoryEqualsTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(11, 3))
		a, b, tid := twoReplicas(t, s, config.Defaults())
		const n = 300
		ids := make([]string, 0, n+100)
		last := map[string]mirror.CustomerInput{}
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("c%d", i)
			ids = append(ids, id)
			last[id] = street(t, a, tid, id, rng, i%25 != 0)
		}
		for k := 0; k < 40; k++ {
			_, _, _ = a.Neighbors.CreateLink(ctx, tid, neighbor.LinkInput{CustomerA: ids[rng.IntN(n)], CustomerB: ids[rng.IntN(n)]})
		}
		a.Neighbors.WaitNearbyCopy(t, tid)
		answered := 0
		for round := 0; round < 60; round++ {
			for k := 0; k < 6; k++ {
				w := a
				if rng.IntN(2) == 0 {
					w = b // another replica wrote it
				}
				switch op := rng.IntN(10); {
				case op == 0:
					id := fmt.Sprintf("new%d", len(ids))
					ids = append(ids, id)
					last[id] = street(t, w, tid, id, rng, true)
				case op == 1:
					id := ids[rng.IntN(len(ids))]
					last[id] = street(t, w, tid, id, rng, false)
				case op == 2:
					_, _, _ = w.Neighbors.CreateLink(ctx, tid, neighbor.LinkInput{CustomerA: ids[rng.IntN(len(ids))], CustomerB: ids[rng.IntN(len(ids))]})
				case op == 3: // the same values again: nothing the search answers with changes
					id := ids[rng.IntN(len(ids))]
					if _, _, err := w.Mirror.PutCustomer(ctx, tid, id, last[id]); err != nil {
						t.Fatal(err)
					}
				default:
					id := ids[rng.IntN(len(ids))]
					last[id] = street(t, w, tid, id, rng, true)
				}
			}
			for q := 0; q < 8; q++ {
				id := ids[rng.IntN(len(ids))]
				radius, limit := 50+rng.IntN(1500), 1+rng.IntN(80)
				want, werr := a.Neighbors.NearbyFromDatabase(ctx, tid, id, radius, limit)
				got, ok, gerr := a.Neighbors.NearbyFromCopy(ctx, tid, id, radius, limit)
				if werr != nil {
					if ok {
						t.Fatalf("round %d, %s: the database says %v, the copy answered %v %v", round, id, werr, got, gerr)
					}
					continue
				}
				if !ok || gerr != nil {
					t.Fatalf("round %d, %s: the copy did not answer (%v)", round, id, gerr)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("round %d, %s within %d m, %d at most:\n copy     %+v\n database %+v", round, id, radius, limit, got, want)
				}
				full, err := a.Neighbors.Nearby(ctx, tid, id, radius, limit)
				if err != nil || !reflect.DeepEqual(full, want) {
					t.Fatalf("Nearby: %v %+v", err, full)
				}
				answered++
			}
		}
		if answered < 300 {
			t.Fatalf("only %d searches had a located customer to ask about", answered)
		}
	})
}

// TestNearbyNeverAnswersOlderThanAnAcknowledgedWrite: once a replica holds
// a copy, a customer moved next door, moved away or dropping the same-day
// consent on another replica shows in its very next answer.
func TestNearbyNeverAnswersOlderThanAnAcknowledgedWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, b, tid := twoReplicas(t, s, config.Defaults())
		put := func(w *app.App, id string, lat, lon float64, consent bool) {
			if _, _, err := w.Mirror.PutCustomer(ctx, tid, id, mirror.CustomerInput{Name: id, Lat: &lat, Lon: &lon, ConsentSameDay: consent}); err != nil {
				t.Fatal(err)
			}
		}
		put(a, "home", 45.5, -122.6, true)
		put(a, "far", 45.6, -122.6, true)
		a.Neighbors.WaitNearbyCopy(t, tid)
		near := func(want string) {
			t.Helper()
			got, ok, err := a.Neighbors.NearbyFromCopy(ctx, tid, "home", 500, 10)
			if err != nil || !ok {
				t.Fatalf("copy: ok %v, %v", ok, err)
			}
			if s := fmt.Sprint(got); s != want {
				t.Fatalf("nearby home: %s, want %s", s, want)
			}
		}
		near("[]")
		for i := 0; i < 20; i++ {
			put(b, "far", 45.5, -122.601, i%2 == 0) // 78 m east
			near(fmt.Sprintf("[{far far  78 %v false}]", i%2 == 0))
			put(b, "far", 45.6, -122.6, true)
			near("[]")
		}
		if _, _, err := b.Mirror.PutCustomer(ctx, tid, "next", mirror.CustomerInput{Name: "Next Door"}); err != nil {
			t.Fatal(err)
		}
		put(b, "next", 45.5001, -122.6, false)
		near("[{next next  11 false false}]")
		if _, _, err := b.Mirror.PutCustomer(ctx, tid, "next", mirror.CustomerInput{Name: "Next Door"}); err != nil { // location withdrawn
			t.Fatal(err)
		}
		near("[]")
	})
}

// TestNearbyBeyondTheMemoryLimitReadsTheDatabase: a tenant with more
// customers than the limit is never held, and its answers are the
// database's; holding a second tenant drops the one searched least lately.
func TestNearbyBeyondTheMemoryLimitReadsTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cfg := config.Defaults()
		cfg.NearbyCacheCustomers = 30
		rng := rand.New(rand.NewPCG(5, 5))
		a, _, big := twoReplicas(t, s, cfg)
		for i := 0; i < 40; i++ {
			street(t, a, big, fmt.Sprintf("b%d", i), rng, true)
		}
		small := make([]string, 2)
		for k := range small {
			ten := apptest.Tenant(t, a.Tenants, tenant.NewTenant{Name: fmt.Sprintf("Small %d", k), Timezone: "America/Los_Angeles", Currency: "USD"})
			small[k] = ten.ID
			for i := 0; i < 20; i++ {
				street(t, a, ten.ID, fmt.Sprintf("s%d", i), rng, true)
			}
		}
		want, err := a.Neighbors.NearbyFromDatabase(ctx, big, "b1", 2000, 50)
		if err != nil || len(want) == 0 {
			t.Fatal(err, want)
		}
		for i := 0; i < 20; i++ {
			got, err := a.Neighbors.Nearby(ctx, big, "b1", 2000, 50)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%v %+v", err, got)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if a.Neighbors.HasNearbyCopy(big) {
			t.Fatal("a tenant of 40 customers is held under a limit of 30")
		}
		a.Neighbors.WaitNearbyCopy(t, small[0])
		a.Neighbors.WaitNearbyCopy(t, small[1])
		if a.Neighbors.HasNearbyCopy(small[0]) {
			t.Fatal("two tenants of 20 customers are both held under a limit of 30")
		}
	})
}

// TestATransactionRaisesTheCustomerCounterOnce: a large import in one
// transaction raises the counter once on PostgreSQL and marks its rows with
// its transaction id, so that it does not pile up versions of the counter
// row; SQLite, with one writer at a time, raises it once a row and stamps
// each row with the value.
func TestATransactionRaisesTheCustomerCounterOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		a, _, tid := twoReplicas(t, s, config.Defaults())
		street(t, a, tid, "first", rand.New(rand.NewPCG(1, 1)), true)
		var before int64
		s.DB.Raw(`SELECT version FROM customer_versions WHERE tenant_id = ?`, tid).Scan(&before)
		err := s.Tx(context.Background(), func(tx *gorm.DB) error {
			for i := 0; i < 50; i++ {
				if err := tx.Exec(`INSERT INTO customers (tenant_id, external_id, name, lat, lon, referral_code, created_at, updated_at)
					VALUES (?, ?, ?, 45.5, -122.6, ?, ?, ?)`, tid, fmt.Sprintf("i%d", i), "Imported", fmt.Sprintf("IMP%d", i), time.Now(), time.Now()).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var after int64
		s.DB.Raw(`SELECT version FROM customer_versions WHERE tenant_id = ?`, tid).Scan(&after)
		if s.Dialect == store.Postgres {
			var marks int
			s.DB.Raw(`SELECT COUNT(DISTINCT nearby_xid) FROM customers WHERE tenant_id = ? AND external_id LIKE 'i%'`, tid).Scan(&marks)
			if after != before+1 || marks != 1 {
				t.Fatalf("counter %d → %d (want +1), %d transaction ids on the rows (want 1)", before, after, marks)
			}
			return
		}
		var minStamp, maxStamp int64
		s.DB.Raw(`SELECT MIN(nearby_version) FROM customers WHERE tenant_id = ? AND external_id LIKE 'i%'`, tid).Scan(&minStamp)
		s.DB.Raw(`SELECT MAX(nearby_version) FROM customers WHERE tenant_id = ? AND external_id LIKE 'i%'`, tid).Scan(&maxStamp)
		if after != before+50 || minStamp != before+1 || maxStamp != after {
			t.Fatalf("counter %d → %d (want +50), rows stamped %d..%d", before, after, minStamp, maxStamp)
		}
	})
}

// TestNearbyCopyUnderConcurrentSearchesAndWrites: searches on one replica
// while another writes, all at once; every answer a search gives after a
// write was acknowledged holds that write, and when the writes stop both
// ways agree.
func TestNearbyCopyUnderConcurrentSearchesAndWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(9, 9))
		a, b, tid := twoReplicas(t, s, config.Defaults())
		for i := 0; i < 60; i++ {
			street(t, a, tid, fmt.Sprintf("c%d", i), rng, true)
		}
		lat, lon := 45.49, -122.70 // away from the street
		if _, _, err := a.Mirror.PutCustomer(ctx, tid, "home", mirror.CustomerInput{Name: "home", Lat: &lat, Lon: &lon}); err != nil {
			t.Fatal(err)
		}
		a.Neighbors.WaitNearbyCopy(t, tid)
		errs := make(chan error, 3)
		done := make(chan struct{})
		for r := 0; r < 2; r++ {
			rrng := rand.New(rand.NewPCG(uint64(r), 4))
			go func() {
				for {
					select {
					case <-done:
						errs <- nil
						return
					default:
					}
					// a customer the writer took the location from is refused
					if _, err := a.Neighbors.Nearby(ctx, tid, fmt.Sprintf("c%d", rrng.IntN(60)), 800, 20); err != nil && !apperror.HasCode(err, apperror.CodeUnprocessable) {
						errs <- err
						return
					}
				}
			}()
		}
		go func() {
			defer close(done)
			wrng := rand.New(rand.NewPCG(1, 9))
			for i := 0; i < 40; i++ {
				moved := fmt.Sprintf("c%d", wrng.IntN(60))
				if _, _, err := b.Mirror.PutCustomer(ctx, tid, moved, streetInput(moved, wrng, wrng.IntN(5) != 0)); err != nil {
					errs <- err
					return
				}
				// a neighbour moves in next to home, acknowledged: home's next search shows it
				nlat, nlon := lat+0.0001, lon
				id := fmt.Sprintf("n%d", i)
				if _, _, err := b.Mirror.PutCustomer(ctx, tid, id, mirror.CustomerInput{Name: id, Lat: &nlat, Lon: &nlon}); err != nil {
					errs <- err
					return
				}
				got, err := a.Neighbors.Nearby(ctx, tid, "home", 100, 100)
				if err != nil || len(got) != i+1 {
					errs <- fmt.Errorf("after %s moved in, home's neighbours: %v %v", id, got, err)
					return
				}
			}
			errs <- nil
		}()
		for k := 0; k < 3; k++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 60; i++ {
			id := fmt.Sprintf("c%d", i)
			want, werr := a.Neighbors.NearbyFromDatabase(ctx, tid, id, 800, 20)
			got, gerr := a.Neighbors.Nearby(ctx, tid, id, 800, 20)
			if fmt.Sprint(werr) != fmt.Sprint(gerr) || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: copy %v %+v, database %v %+v", id, gerr, got, werr, want)
			}
		}
	})
}
