package insight_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// The KPIs read their invoice numbers from a day rollup (rollup.go). These
// tests change the facts under it at random, by plain SQL as any writer
// would, and compare every answer with an oracle that reads the facts
// themselves and works the numbers out in Go.

// oracleNumbers are the rollup's numbers for one period and split.
type oracleNumbers struct {
	Revenue  map[string]int64 // by group
	Sync     map[string]int64 // by crew when split by crew, else under ""
	Invoiced int
	Synced   int
}

// oracle works the numbers out from the rows: the README's definitions,
// one invoice at a time.
func oracle(t *testing.T, s *store.Store, tid string, from, to localdate.Date, by string) oracleNumbers {
	t.Helper()
	db := s.DB
	var zone string
	db.Raw(`SELECT timezone FROM tenants WHERE id = ?`, tid).Scan(&zone)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	var invoices []struct {
		ID         int64
		CustomerID int64
		Status     string
		IssuedAt   *time.Time
	}
	var lines []struct {
		InvoiceID   int64
		Kind        string
		VisitID     *int64
		AmountCents int64
		ItemKey     *string
	}
	var visits []struct {
		ID     int64
		CrewID *int64
	}
	var crews []struct {
		ID         int64
		ExternalID string
	}
	var referrals []struct {
		ID                int64
		RefereeCustomerID *int64
		Channel, Variant  string
		Status            string
		CreatedAt         time.Time
	}
	for _, q := range []struct {
		sql  string
		into any
	}{
		{`SELECT id, customer_id, status, issued_at FROM invoices WHERE tenant_id = ?`, &invoices},
		{`SELECT invoice_id, kind, visit_id, amount_cents, item_key FROM invoice_lines WHERE tenant_id = ?`, &lines},
		{`SELECT id, crew_id FROM visits WHERE tenant_id = ?`, &visits},
		{`SELECT id, external_id FROM crews WHERE tenant_id = ?`, &crews},
		{`SELECT id, referee_customer_id, channel, variant, status, created_at FROM referrals WHERE tenant_id = ?`, &referrals},
	} {
		if err := db.Raw(q.sql, tid).Scan(q.into).Error; err != nil {
			t.Fatal(err)
		}
	}
	crewOf := map[int64]string{}
	for _, c := range crews {
		crewOf[c.ID] = c.ExternalID
	}
	visitCrew := map[int64]string{}
	for _, v := range visits {
		if v.CrewID != nil {
			visitCrew[v.ID] = crewOf[*v.CrewID]
		}
	}
	// Each friend's first converted referral (lowest id).
	first := map[int64]int{}
	for i, r := range referrals {
		if r.Status != "converted" || r.RefereeCustomerID == nil {
			continue
		}
		if j, ok := first[*r.RefereeCustomerID]; !ok || r.ID < referrals[j].ID {
			first[*r.RefereeCustomerID] = i
		}
	}
	type inv struct {
		day      localdate.Date
		customer int64
		issuedAt time.Time
	}
	counted := map[int64]inv{}
	for _, i := range invoices {
		if (i.Status != "issued" && i.Status != "paid") || i.IssuedAt == nil {
			continue
		}
		d := localdate.In(*i.IssuedAt, loc)
		if d.Before(from) || to.Before(d) {
			continue
		}
		counted[i.ID] = inv{day: d, customer: i.CustomerID, issuedAt: *i.IssuedAt}
	}
	out := oracleNumbers{Revenue: map[string]int64{}, Sync: map[string]int64{}}
	invoiced, synced := map[string]bool{}, map[string]bool{} // day/visit
	for _, l := range lines {
		i, ok := counted[l.InvoiceID]
		if !ok {
			continue
		}
		crew := ""
		if l.VisitID != nil {
			crew = visitCrew[*l.VisitID]
		}
		switch {
		case l.Kind == "service":
			if l.VisitID != nil {
				invoiced[fmt.Sprint(i.day, *l.VisitID)] = true
			}
			j, ok := first[i.customer]
			if !ok || i.issuedAt.Before(referrals[j].CreatedAt) {
				break
			}
			g := referrals[j].Channel
			switch by {
			case insight.GroupByVariant:
				g = referrals[j].Variant
			case insight.GroupByCrew:
				g = crew
			}
			out.Revenue[g] += l.AmountCents
		case l.Kind == "sync_discount" || (l.Kind == "credit" && l.ItemKey != nil && len(*l.ItemKey) > 5 && (*l.ItemKey)[:5] == "sync:"):
			if l.Kind == "sync_discount" && l.VisitID != nil {
				synced[fmt.Sprint(i.day, *l.VisitID)] = true
			}
			g := ""
			if by == insight.GroupByCrew {
				g = crew
			}
			out.Sync[g] -= l.AmountCents
		}
	}
	out.Invoiced, out.Synced = len(invoiced), len(synced)
	return out
}

// answered are the same numbers from the KPIs.
func answered(k insight.KPIs) oracleNumbers {
	out := oracleNumbers{Revenue: map[string]int64{}, Sync: map[string]int64{}, Invoiced: *k.Total.InvoicedVisits, Synced: *k.Total.SyncedVisits}
	for _, r := range k.Groups {
		g := r.Group
		if g == insight.Unassigned {
			g = ""
		}
		if r.RevenueCents != 0 {
			out.Revenue[g] = r.RevenueCents
		}
		if k.GroupBy == insight.GroupByCrew && r.SyncDiscountCents != nil && *r.SyncDiscountCents != 0 {
			out.Sync[g] = *r.SyncDiscountCents
		}
	}
	if k.GroupBy != insight.GroupByCrew && *k.Total.SyncDiscountCents != 0 {
		out.Sync[""] = *k.Total.SyncDiscountCents
	}
	return out
}

func (o oracleNumbers) String() string {
	keys := func(m map[string]int64) string {
		var ks []string
		for k, v := range m {
			if v != 0 {
				ks = append(ks, fmt.Sprintf("%s=%d", k, v))
			}
		}
		sort.Strings(ks)
		return fmt.Sprint(ks)
	}
	return fmt.Sprintf("revenue %s sync %s invoiced %d synced %d", keys(o.Revenue), keys(o.Sync), o.Invoiced, o.Synced)
}

// world is a tenant whose facts the tests change at random.
type world struct {
	f         fixture
	rnd       *rand.Rand
	customers []int64
	crews     []int64
	visits    []int64
	invoices  []int64
	referrals []int64
	n         int
}

// The window the facts fall in: March 2026, across New York's switch to
// summer time on March 8.
var windowStart = utc("2026-03-01T00:00:00Z")

func (w *world) moment() time.Time {
	return windowStart.Add(time.Duration(w.rnd.IntN(20*24*60)) * time.Minute)
}

// exec runs SQL with exactly the arguments given.
func (w *world) exec(q string, args ...any) {
	w.f.t.Helper()
	if err := w.f.s.DB.Exec(q, args...).Error; err != nil {
		w.f.t.Fatalf("%s: %v", q, err)
	}
}

func (w *world) pick(ids []int64) int64 { return ids[w.rnd.IntN(len(ids))] }

func newWorld(t *testing.T, s *store.Store, seed uint64) (*insight.Service, *world) {
	clk := clock.NewFixed(utc("2026-03-25T12:00:00Z"))
	ten := apptest.Tenant(t, tenant.NewService(s, clk), tenant.NewTenant{Name: "Rollup", Timezone: "America/New_York", Currency: "USD"})
	w := &world{f: fixture{t: t, s: s, tid: ten.ID}, rnd: rand.New(rand.NewPCG(seed, 7))}
	for i := range 6 {
		w.customers = append(w.customers, w.f.customer(fmt.Sprintf("c%d", i), "2026-01-05T12:00:00Z"))
	}
	for i := range 3 {
		w.crews = append(w.crews, w.f.crew(fmt.Sprintf("crew%d", i), 40.7, -74))
	}
	for i := range 10 {
		w.visits = append(w.visits, w.f.crewVisit(fmt.Sprintf("v%d", i), w.pick(w.customers), w.pick(w.crews), "2026-03-10", "completed", i))
	}
	return insight.NewService(s, clk), w
}

var statuses = []string{"draft", "issued", "paid", "void"}

// step changes one fact at random and says which.
func (w *world) step() string {
	f := w.f
	w.n++
	op := w.rnd.IntN(12)
	if op == 11 && w.rnd.IntN(4) > 0 { // a new zone is rare: it works every day out again
		op = 10
	}
	if len(w.invoices) == 0 {
		op = 0
	}
	switch op {
	case 0, 1:
		status := statuses[w.rnd.IntN(len(statuses))]
		issued := w.moment().Format(time.RFC3339)
		if status == "draft" {
			issued = ""
		}
		var ls []line
		for j := range 1 + w.rnd.IntN(3) {
			v := w.pick(w.visits)
			ls = append(ls, line{"service", v, int64(1000 + w.rnd.IntN(9000)), ""})
			if w.rnd.IntN(3) == 0 {
				ls = append(ls, line{"sync_discount", v, -int64(100 + w.rnd.IntN(900)), fmt.Sprintf("visit:%d", j)})
			}
		}
		if w.rnd.IntN(4) == 0 {
			ls = append(ls, line{"credit", w.pick(w.visits), -300, "adjustment:1"})
		}
		id := f.invoice(fmt.Sprintf("i%d", w.n), w.pick(w.customers), status, issued, 0, ls...)
		w.invoices = append(w.invoices, id)
		return fmt.Sprintf("invoice %d %s %s", id, status, issued)
	case 2:
		id, status := w.pick(w.invoices), statuses[w.rnd.IntN(len(statuses))]
		if status == "draft" {
			f.exec(`UPDATE invoices SET status = 'draft', issued_at = NULL WHERE tenant_id = ? AND id = ?`, id)
		} else {
			w.exec(`UPDATE invoices SET status = ?, issued_at = COALESCE(issued_at, ?) WHERE tenant_id = ? AND id = ?`, status, w.moment(), f.tid, id)
		}
		return fmt.Sprintf("invoice %d → %s", id, status)
	case 3:
		id, at := w.pick(w.invoices), w.moment()
		w.exec(`UPDATE invoices SET issued_at = ? WHERE tenant_id = ? AND id = ? AND issued_at IS NOT NULL`, at, f.tid, id)
		return fmt.Sprintf("invoice %d re-dated %s", id, at)
	case 4:
		id := w.pick(w.invoices)
		f.exec(`UPDATE invoice_lines SET amount_cents = amount_cents + 100 WHERE tenant_id = ? AND invoice_id = ? AND kind = 'service'`, id)
		return fmt.Sprintf("invoice %d lines +1.00", id)
	case 5:
		id := w.pick(w.invoices)
		if w.rnd.IntN(4) == 0 {
			f.exec(`DELETE FROM invoices WHERE tenant_id = ? AND id = ?`, id)
			w.invoices = slices.DeleteFunc(w.invoices, func(i int64) bool { return i == id })
			return fmt.Sprintf("invoice %d deleted", id)
		}
		f.exec(`DELETE FROM invoice_lines WHERE tenant_id = ? AND id = (SELECT MAX(id) FROM invoice_lines WHERE invoice_id = ?)`, id)
		return fmt.Sprintf("invoice %d lost its last line", id)
	case 6:
		v, crew := w.pick(w.visits), any(w.pick(w.crews))
		if w.rnd.IntN(4) == 0 {
			crew = nil
		}
		w.exec(`UPDATE visits SET crew_id = ? WHERE tenant_id = ? AND id = ?`, crew, f.tid, v)
		return fmt.Sprintf("visit %d → crew %v", v, crew)
	case 7, 8:
		referee := w.pick(w.customers)
		status := []string{"pending", "converted", "converted"}[w.rnd.IntN(3)]
		id := f.referral(w.pick(w.customers), &referee, fmt.Sprintf("k%d", w.n), []string{"link", "code", "card"}[w.rnd.IntN(3)],
			[]string{"A", "B"}[w.rnd.IntN(2)], status, w.moment().Format(time.RFC3339), "")
		w.referrals = append(w.referrals, id)
		return fmt.Sprintf("referral %d of %d %s", id, referee, status)
	case 9:
		if len(w.referrals) == 0 {
			return "nothing"
		}
		id := w.pick(w.referrals)
		switch w.rnd.IntN(5) {
		case 4:
			f.exec(`DELETE FROM referrals WHERE tenant_id = ? AND id = ?`, id)
			w.referrals = slices.DeleteFunc(w.referrals, func(i int64) bool { return i == id })
			return fmt.Sprintf("referral %d deleted", id)
		case 0:
			f.exec(`UPDATE referrals SET status = 'rejected' WHERE tenant_id = ? AND id = ?`, id)
		case 1:
			f.exec(`UPDATE referrals SET status = 'converted' WHERE tenant_id = ? AND id = ?`, id)
		case 2:
			f.exec(`UPDATE referrals SET variant = 'C', channel = 'crew_pitch' WHERE tenant_id = ? AND id = ?`, id)
		default:
			w.exec(`UPDATE referrals SET referee_customer_id = ? WHERE tenant_id = ? AND id = ?`, w.pick(w.customers), f.tid, id)
		}
		return fmt.Sprintf("referral %d changed", id)
	case 10:
		id, v := w.pick(w.invoices), w.pick(w.visits)
		if w.rnd.IntN(2) == 0 {
			w.exec(`INSERT INTO invoice_lines (tenant_id, invoice_id, position, kind, visit_id, description, amount_cents, item_key)
				VALUES (?, ?, ?, 'credit', ?, 'late', -250, ?)`, f.tid, id, 100+w.n, v, fmt.Sprintf("sync:%d:0", v))
		} else {
			w.exec(`INSERT INTO invoice_lines (tenant_id, invoice_id, position, kind, visit_id, description, amount_cents)
				VALUES (?, ?, ?, 'service', ?, 'extra', 1200)`, f.tid, id, 100+w.n, v)
		}
		return fmt.Sprintf("invoice %d got a line", id)
	default:
		zone := []string{"America/New_York", "America/Los_Angeles", "Asia/Kolkata", "Asia/Kathmandu"}[w.rnd.IntN(4)]
		w.exec(`UPDATE tenants SET timezone = ? WHERE id = ?`, zone, f.tid)
		return "zone " + zone
	}
}

// check compares one random period and split with the oracle.
func (w *world) check(t *testing.T, svc *insight.Service, s *store.Store, history []string) {
	t.Helper()
	from := localdate.Of(windowStart.AddDate(0, 0, w.rnd.IntN(22)-1))
	to := from.AddDays(w.rnd.IntN(20))
	by := []string{insight.GroupByChannel, insight.GroupByVariant, insight.GroupByCrew}[w.rnd.IntN(3)]
	k, err := svc.KPIs(context.Background(), w.f.tid, insight.KPIQuery{Range: insight.Range{From: &from, To: &to}, GroupBy: by})
	if err != nil {
		t.Fatal(err)
	}
	got, want := answered(k), oracle(t, s, w.f.tid, from, to, by)
	if got.String() != want.String() {
		t.Fatalf("%s .. %s by %s:\n got  %s\n want %s\nafter:\n%v", from, to, by, got, want, history)
	}
}

// TestKPIRollupFollowsEveryChange: 240 random changes to invoices, lines,
// referrals, visits' crews and the tenant's zone, each followed by KPIs of a
// random period and split, on both databases.
func TestKPIRollupFollowsEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for seed := range uint64(3) {
			svc, w := newWorld(t, s, seed)
			var history []string
			for range 80 {
				history = append(history, w.step())
				if w.rnd.IntN(3) > 0 { // some changes pile up before a read
					w.check(t, svc, s, history)
				}
			}
			w.check(t, svc, s, history)
		}
	})
}

// TestKPIRollupUnderConcurrentWrites: writers issue invoices and move
// visits while owners read the KPIs; once they stop, the KPIs of every
// split equal the oracle's (no change whose mark a concurrent refresh took
// is lost).
func TestKPIRollupUnderConcurrentWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc, w := newWorld(t, s, 42)
		ctx := context.Background()
		from, to := localdate.Of(windowStart.AddDate(0, 0, -1)), localdate.Of(windowStart.AddDate(0, 0, 21))
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rnd := rand.New(rand.NewPCG(uint64(g), 1))
				for i := range 15 {
					err := s.Tx(ctx, func(tx *gorm.DB) error {
						at := windowStart.Add(time.Duration(rnd.IntN(20*24)) * time.Hour)
						var id int64
						if err := tx.Raw(`INSERT INTO invoices (tenant_id, external_id, customer_id, status, currency, subtotal_cents, discount_cents, total_cents, public_token, issued_at, created_at, updated_at)
							VALUES (?, ?, ?, 'issued', 'USD', 0, 0, 0, ?, ?, ?, ?) RETURNING id`, w.f.tid, fmt.Sprintf("g%d-%d", g, i), w.customers[rnd.IntN(len(w.customers))],
							fmt.Sprintf("tok-%s-%d-%d", w.f.tid[:8], g, i), at, at, at).Scan(&id).Error; err != nil {
							return err
						}
						v := w.visits[rnd.IntN(len(w.visits))]
						if err := tx.Exec(`INSERT INTO invoice_lines (tenant_id, invoice_id, position, kind, visit_id, description, amount_cents) VALUES (?, ?, 1, 'service', ?, 'x', 2500)`,
							w.f.tid, id, v).Error; err != nil {
							return err
						}
						return tx.Exec(`UPDATE visits SET crew_id = ? WHERE tenant_id = ? AND id = ?`, w.crews[rnd.IntN(len(w.crews))], w.f.tid, v).Error
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		stop := make(chan struct{})
		var readers sync.WaitGroup
		for range 2 {
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := svc.KPIs(ctx, w.f.tid, insight.KPIQuery{Range: insight.Range{From: &from, To: &to}, GroupBy: insight.GroupByCrew}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		readers.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, by := range []string{insight.GroupByChannel, insight.GroupByVariant, insight.GroupByCrew} {
			k, err := svc.KPIs(ctx, w.f.tid, insight.KPIQuery{Range: insight.Range{From: &from, To: &to}, GroupBy: by})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := answered(k), oracle(t, s, w.f.tid, from, to, by); got.String() != want.String() || want.Invoiced == 0 {
				t.Fatalf("by %s:\n got  %s\n want %s", by, got, want)
			}
		}
	})
}

// TestKPIRollupInAHalfHourZone: in Kolkata (UTC+5:30) an invoice issued at
// 18:40 UTC is the next local day's; a line added to it later is counted on
// that day (Postgres marks the hour, 18:00 UTC, which is still the day
// before there).
func TestKPIRollupInAHalfHourZone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc, w := newWorld(t, s, 1)
		w.exec(`UPDATE tenants SET timezone = 'Asia/Kolkata' WHERE id = ?`, w.f.tid)
		v := w.visits[0]
		inv := w.f.invoice("late", w.customers[0], "issued", "2026-03-10T18:40:00Z", 0, line{"service", v, 4000, ""})
		mar11 := localdate.Of(utc("2026-03-11T00:00:00Z"))
		read := func() int64 {
			k, err := svc.KPIs(context.Background(), w.f.tid, insight.KPIQuery{Range: insight.Range{From: &mar11, To: &mar11}})
			if err != nil {
				t.Fatal(err)
			}
			return *k.Total.SyncDiscountCents
		}
		if got := read(); got != 0 {
			t.Fatalf("sync before the credit: %d", got)
		}
		w.exec(`INSERT INTO invoice_lines (tenant_id, invoice_id, position, kind, visit_id, description, amount_cents, item_key)
			VALUES (?, ?, 2, 'credit', ?, 'late', -400, ?)`, w.f.tid, inv, v, fmt.Sprintf("sync:%d:0", v))
		if got := read(); got != 400 {
			t.Fatalf("sync after the credit on March 11 in Kolkata: %d, want 400", got)
		}
	})
}

// TestKPIRollupLosesNoMarkWhenARefreshFails: a refresh that fails after it
// took the marks (here its table is briefly gone, as a crash would leave
// it) gives them back with the rest of its transaction; the next answer
// counts the change.
func TestKPIRollupLosesNoMarkWhenARefreshFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc, w := newWorld(t, s, 5)
		ctx := context.Background()
		may := localdate.Of(windowStart)
		end := may.AddDays(20)
		q := insight.KPIQuery{Range: insight.Range{From: &may, To: &end}}
		if _, err := svc.KPIs(ctx, w.f.tid, q); err != nil { // the rollup is built
			t.Fatal(err)
		}
		w.f.invoice("late", w.customers[0], "issued", "2026-03-05T15:00:00Z", 0, line{"service", w.visits[0], 4000, ""},
			line{"sync_discount", w.visits[0], -400, "visit:1"})
		w.exec(`ALTER TABLE kpi_days RENAME TO kpi_days_away`)
		if _, err := svc.KPIs(ctx, w.f.tid, q); err == nil {
			t.Fatal("the refresh ran without its table")
		}
		w.exec(`ALTER TABLE kpi_days_away RENAME TO kpi_days`)
		k, err := svc.KPIs(ctx, w.f.tid, q)
		if err != nil {
			t.Fatal(err)
		}
		if *k.Total.SyncDiscountCents != 400 || *k.Total.InvoicedVisits != 1 {
			t.Fatalf("after the failed refresh: sync %d, invoiced %d; want 400 and 1", *k.Total.SyncDiscountCents, *k.Total.InvoicedVisits)
		}
	})
}
