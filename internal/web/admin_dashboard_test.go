package web_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/csvexport"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// dashFixture writes rows the way the scheduler's mirror would have them.
type dashFixture struct {
	t   *testing.T
	s   *store.Store
	tid string
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func (f dashFixture) id(q string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.s.DB.Raw(q+" RETURNING id", append([]any{f.tid}, args...)...).Scan(&id).Error; err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func (f dashFixture) customer(name string, lat, lon float64, created string) int64 {
	return f.id(`INSERT INTO customers (tenant_id, external_id, name, referral_code, lat, lon, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		name, name, "D"+f.tid[:8]+name, lat, lon, at(created), at(created))
}

func (f dashFixture) invoice(name string, customer int64, status, issued string, total int64, lines ...[4]any) {
	inv := f.id(`INSERT INTO invoices (tenant_id, external_id, customer_id, status, currency, subtotal_cents, discount_cents, total_cents, public_token, issued_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'USD', 0, 0, ?, ?, ?, ?, ?)`, name, customer, status, total, f.tid[:8]+"dash"+name, at(issued), at(issued), at(issued))
	for i, l := range lines {
		var visit *int64
		if v := l[1].(int64); v != 0 {
			visit = &v
		}
		var item *string
		if k := l[3].(string); k != "" {
			if k == "sync:" {
				k = fmt.Sprintf("sync:%d:%d", *visit, inv)
			}
			item = &k
		}
		f.id(`INSERT INTO invoice_lines (tenant_id, invoice_id, position, kind, visit_id, description, amount_cents, source_key, item_key) VALUES (?, ?, ?, ?, ?, 'x', ?, ?, ?)`,
			inv, i+1, l[0], visit, l[2], item, item)
	}
}

// mayOfNorth is the README's worked example in Greenway's May 2026
// (America/Los_Angeles): Ben, referred by Angie, converts; both are
// serviced the same day by crew North, back to back. Revenue 10000 (Ben's
// service line before discounts), contribution at 40% 4000; cost: rewards
// 1000 + 2000, sync discounts 1000 + 1000, crew bonus 25 × 10 = 250 → 5250;
// route savings 926 (5.79 km, 11.58 minutes). Net 4000 + 926 − 5250 = −324.
func mayOfNorth(t *testing.T, x *staffSite) {
	t.Helper()
	f := dashFixture{t: t, s: x.s, tid: x.green.ID}
	p := program.Defaults(x.green.ID)
	p.PointValueCents = 10
	if _, err := program.Save(x.s.DB, p, x.clock.Now()); err != nil {
		t.Fatal(err)
	}
	north := f.id(`INSERT INTO crews (tenant_id, external_id, name, depot_lat, depot_lon, created_at, updated_at) VALUES (?, 'north', 'North <b>crew</b>', 45.5, -122.6, ?, ?)`,
		at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"))
	sam := f.id(`INSERT INTO crew_members (tenant_id, crew_id, external_id, name, created_at, updated_at) VALUES (?, ?, 'sam', 'Sam', ?, ?)`,
		north, at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"))
	angie := f.customer("angie", 45.51, -122.6, "2026-01-10T18:00:00Z")
	ben := f.customer("ben", 45.511, -122.6, "2026-05-03T18:00:00Z")
	r1 := f.id(`INSERT INTO referrals (tenant_id, referrer_id, referee_customer_id, referee_key, referee_name, channel, variant, status, converted_at, created_at, updated_at)
		VALUES (?, ?, ?, 'ben', 'Ben', 'link', 'A', 'converted', ?, ?, ?)`, angie, ben, at("2026-05-06T18:00:00Z"), at("2026-05-02T18:00:00Z"), at("2026-05-02T18:00:00Z"))
	f.id(`INSERT INTO neighbor_links (tenant_id, customer_a_id, customer_b_id, distance_m, source, starts_on, created_at, updated_at)
		VALUES (?, ?, ?, 111, 'referral', '2026-05-06', ?, ?)`, angie, ben, at("2026-05-06T18:00:00Z"), at("2026-05-06T18:00:00Z"))
	reward := func(customer int64, kind string, amount, value int64, key string) int64 {
		return f.id(`INSERT INTO rewards (tenant_id, customer_id, referral_id, role, kind, amount_cents, value_cents, status, budget_month, reason, idempotency_key, created_at)
			VALUES (?, ?, ?, 'referrer', ?, ?, ?, 'granted', '2026-05', 'fixture', ?, ?)`, customer, r1, kind, amount, value, key, at("2026-05-06T18:00:00Z"))
	}
	welcome := reward(ben, "percent_next_invoice", 0, 1000, "welcome")
	credit := reward(angie, "fixed_credit", 2000, 2000, "credit")
	visit := func(name string, customer int64, position int) int64 {
		return f.id(`INSERT INTO visits (tenant_id, external_id, customer_id, crew_id, service_date, status, price_cents, source, route_position, created_at, updated_at)
			VALUES (?, ?, ?, ?, '2026-05-07', 'completed', 10000, 'scheduler', ?, ?, ?)`, name, customer, north, position, at("2026-05-07T12:00:00Z"), at("2026-05-07T12:00:00Z"))
	}
	va, vb := visit("va", angie, 1), visit("vb", ben, 2)
	f.invoice("b1", ben, "paid", "2026-05-07T23:00:00Z", 8000,
		[4]any{"service", vb, int64(10000), ""},
		[4]any{"sync_discount", vb, int64(-1000), "sync:"},
		[4]any{"referral_reward", vb, int64(-1000), fmt.Sprintf("reward:%d", welcome)})
	f.invoice("a1", angie, "issued", "2026-05-07T23:00:00Z", 7000,
		[4]any{"service", va, int64(10000), ""},
		[4]any{"sync_discount", va, int64(-1000), "sync:"},
		[4]any{"credit", int64(0), int64(-2000), fmt.Sprintf("reward:%d", credit)})
	f.id(`INSERT INTO crew_points (tenant_id, crew_member_id, kind, points, reason, idempotency_key, created_at) VALUES (?, ?, 'pitch', 25, 'fixture', 'p1', ?)`,
		sam, at("2026-05-07T20:00:00Z"))
}

// dashboardCSV downloads one of the dashboard's CSV files.
func dashboardCSV(t *testing.T, x *staffSite, path string, ck *http.Cookie) [][]string {
	t.Helper()
	rec := x.get(path, ck)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment; filename=") {
		t.Fatalf("%s: %d %q %q\n%s", path, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"), rec.Body.String())
	}
	body, ok := strings.CutPrefix(rec.Body.String(), csvexport.BOM)
	if !ok {
		t.Fatalf("%s: no byte order mark", path)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// cell is the value of column name in row (rows[0] is the header).
func cell(t *testing.T, rows [][]string, row int, name string) string {
	t.Helper()
	for i, h := range rows[0] {
		if h == name {
			return rows[row][i]
		}
	}
	t.Fatalf("no column %q in %q", name, rows[0])
	return ""
}

func TestAdminDashboardSaysWhetherTheProgramPaidLastMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		x.clock.Set(at("2026-06-10T19:00:00Z"))
		mayOfNorth(t, x)
		ck := x.session("admin@greenway.example")

		// No period asked: last month, May, in the tenant's days.
		page := x.get("/admin", ck)
		body := page.Body.String()
		if page.Code != http.StatusOK {
			t.Fatalf("admin: %d\n%s", page.Code, body)
		}
		for _, want := range []string{
			"Last month (2026-05-01 to 2026-05-31)",
			`<p class="headline unpaid" id="verdict">Last month the program did not pay: net −$3.24 (contribution $40.00 &#43; route savings $9.26 − cost $52.50).`,
			`<a href="/admin?period=last_month#dashboard" aria-current="page">Last month</a>`,
			// The month's bars with their numbers as text, and the table.
			">cost $52.50</text>", ">earned $49.26</text>", ">5.8 km</text>",
			`<td data-label="Month">2026-05 <span class="hint">2026-05-01 to 2026-05-31</span></td><td class="n" data-label="Contribution">$40.00</td><td class="n" data-label="Route savings">$9.26</td><td class="n" data-label="Cost">$52.50</td><td class="n" data-label="Net">−$3.24</td><td data-label="Paid?">did not pay</td><td class="n" data-label="Km saved">5.8 km</td>`,
			// North's route, by its name: both stops synced, 5.79 km and 11.58 minutes saved.
			`<td data-label="Crew">North &lt;b&gt;crew&lt;/b&gt;</td><td class="n" data-label="Synced visits">2</td><td class="n" data-label="Km saved">5.8</td><td class="n" data-label="Minutes saved">12</td><td class="n" data-label="Route savings">$9.26</td><td class="n" data-label="Contribution">$40.00</td><td class="n" data-label="Cost">$22.50</td><td class="n" data-label="Net">$26.76</td>`,
			// The headline cards say what net is made of.
			"contribution (revenue × margin) &#43; savings − all costs",
			`href="/admin/kpis.csv?group=month&amp;period=last_month"`, `href="/admin/kpis.csv?group=crew&amp;period=last_month"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if t.Failed() {
			t.Log(body)
		}

		// The month CSV says the same, with the session alone.
		rows := dashboardCSV(t, x, "/admin/kpis.csv?group=month&period=last_month", ck)
		if len(rows) != 3 || cell(t, rows, 1, "group") != "all" || cell(t, rows, 2, "group") != "2026-05" ||
			cell(t, rows, 2, "net_cents") != "-324" || cell(t, rows, 2, "contribution_cents") != "4000" ||
			cell(t, rows, 2, "route_savings_cents") != "926" || cell(t, rows, 2, "cost_cents") != "5250" || cell(t, rows, 2, "km_saved") != "5.79" ||
			cell(t, rows, 1, "from") != "2026-05-01" || cell(t, rows, 1, "to") != "2026-05-31" {
			t.Errorf("month CSV: %q", rows)
		}
		rows = dashboardCSV(t, x, "/admin/kpis.csv?group=crew&period=last_month", ck)
		var north []string
		for _, r := range rows[1:] {
			if r[3] == "north" {
				north = r
			}
		}
		if north == nil || cell(t, [][]string{rows[0], north}, 1, "net_cents") != "2676" ||
			cell(t, [][]string{rows[0], north}, 1, "synced_visits_on_routes") != "2" || cell(t, [][]string{rows[0], north}, 1, "minutes_saved") != "11.6" {
			t.Errorf("crew CSV: %q", rows)
		}
		// The channel CSV has the same total as the month CSV.
		rows = dashboardCSV(t, x, "/admin/kpis.csv?group=channel&period=last_month", ck)
		if len(rows) < 2 || cell(t, rows, 1, "group") != "all" || cell(t, rows, 1, "net_cents") != "-324" || cell(t, rows, 1, "route_savings_cents") != "926" {
			t.Errorf("channel CSV: %q", rows)
		}

		// At a 60% margin the same month paid: 6000 + 926 − 5250 = 1676.
		margin := 6000
		if _, err := x.a.Neighbors.UpdateProgram(t.Context(), x.green.ID, program.Input{GrossMarginBps: &margin}); err != nil {
			t.Fatal(err)
		}
		body = x.get("/admin", ck).Body.String()
		if want := `<p class="headline paid" id="verdict">Last month the program paid: net $16.76 (contribution $60.00 &#43; route savings $9.26 − cost $52.50).`; !strings.Contains(body, want) {
			t.Errorf("at 60%%: the page lacks %q\n%s", want, body)
		}
		rows = dashboardCSV(t, x, "/admin/kpis.csv?period=last_month", ck)
		if cell(t, rows, 1, "net_cents") != "1676" {
			t.Errorf("month CSV at 60%%: %q", rows)
		}
		// This month (June) has nothing yet.
		if body := x.get("/admin?period=this_month", ck).Body.String(); !strings.Contains(body, "This month the program had no costs or earnings to count yet.") {
			t.Errorf("June:\n%s", body)
		}

		// Dispatchers and crews may not download them; signed out, to sign in.
		for _, who := range []string{"dispatcher@greenway.example", "marisol@greenway.example"} {
			if rec := x.get("/admin/kpis.csv?period=last_month", x.session(who)); rec.Code != http.StatusForbidden {
				t.Errorf("%s downloaded the KPIs: %d", who, rec.Code)
			}
		}
		if rec := x.get("/admin/kpis.csv?period=last_month"); rec.Code != http.StatusSeeOther {
			t.Errorf("signed out: %d", rec.Code)
		}
	})
}

func TestAdminDashboardPeriodsAreTheTenantsDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		// 05:00 UTC on June 1 is still May 31 in Los Angeles.
		x.clock.Set(at("2026-06-01T05:00:00Z"))
		ck := x.session("admin@greenway.example")
		for period, want := range map[string]string{
			"this_month":   "This month (2026-05-01 to 2026-05-31)",
			"last_month":   "Last month (2026-04-01 to 2026-04-30)",
			"last_90_days": "In the last 90 days (2026-03-03 to 2026-05-31)",
			"this_year":    "This year (2026-01-01 to 2026-05-31)",
		} {
			rec := x.get("/admin?period="+period, ck)
			if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, want) ||
				!strings.Contains(body, `<a href="/admin?period=`+period+`#dashboard" aria-current="page">`) {
				t.Errorf("%s: %d, want %q\n%s", period, rec.Code, want, body)
			}
		}
		// The CSV of this month has May's days, one month row.
		rows := dashboardCSV(t, x, "/admin/kpis.csv?period=this_month", ck)
		if len(rows) != 3 || cell(t, rows, 2, "group") != "2026-05" || cell(t, rows, 2, "from") != "2026-05-01" || cell(t, rows, 2, "to") != "2026-05-31" {
			t.Errorf("this month's CSV: %q", rows)
		}
		// Half an hour into June there: June has begun, May is last month.
		x.clock.Set(at("2026-06-01T07:30:00Z"))
		ck = x.session("admin@greenway.example")
		for period, want := range map[string]string{
			"this_month": "This month (2026-06-01 to 2026-06-01)",
			"last_month": "Last month (2026-05-01 to 2026-05-31)",
		} {
			if body := x.get("/admin?period="+period, ck).Body.String(); !strings.Contains(body, want) {
				t.Errorf("%s after midnight: want %q", period, want)
			}
		}
		// January: last month is December of the year before.
		x.clock.Set(at("2027-01-15T20:00:00Z"))
		ck = x.session("admin@greenway.example")
		if body := x.get("/admin?period=last_month", ck).Body.String(); !strings.Contains(body, "Last month (2026-12-01 to 2026-12-31)") {
			t.Errorf("December: %s", body)
		}
		// A custom period spanning three months has three month rows.
		rec := x.get("/admin?period=custom&from=2026-10-15&to=2026-12-02", ck)
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, "From 2026-10-15 to 2026-12-02 the program had no costs") ||
			!strings.Contains(body, `2026-10 <span class="hint">2026-10-15 to 2026-10-31</span>`) ||
			!strings.Contains(body, `2026-12 <span class="hint">2026-12-01 to 2026-12-02</span>`) ||
			!strings.Contains(body, `value="2026-10-15"`) || !strings.Contains(body, `href="/admin/kpis.csv?group=month&amp;period=custom&amp;from=2026-10-15&amp;to=2026-12-02"`) {
			t.Errorf("custom: %d\n%s", rec.Code, body)
		}
	})
}

func TestAdminDashboardRefusesABadPeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		ck := x.session("admin@greenway.example")
		for _, c := range []struct{ query, want string }{
			{"period=custom&from=2026-13-01&to=2026-05-01", `<span class="error" id="dash-from-err">must be a date such as 2026-05-01</span>`},
			{"period=custom&from=2026-04-01", `<span class="error" id="dash-to-err">must be a date such as 2026-05-01</span>`},
			{"period=custom&from=2026-05-02&to=2026-05-01", `<span class="error" id="dash-to-err">must not be before the first day</span>`},
			{"period=custom&from=2020-01-01&to=2026-05-01", `<span class="error" id="dash-to-err">the period may span at most 2 years</span>`},
			{"period=forever", `Period: must be this month, last month, the last 90 days, this year or custom`},
			{"from=yesterday", `id="dash-from-err"`},
		} {
			rec := x.get("/admin?"+c.query, ck)
			body := rec.Body.String()
			if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) || !strings.Contains(body, "That period cannot be shown") ||
				!strings.Contains(body, "Program settings") || strings.Contains(body, `id="verdict"`) {
				t.Errorf("%s: %d, want %q\n%s", c.query, rec.Code, c.want, body)
			}
			// The CSV of the same period is refused the same way.
			if rec := x.get("/admin/kpis.csv?"+c.query, ck); rec.Code != http.StatusUnprocessableEntity || strings.Contains(rec.Header().Get("Content-Type"), "csv") {
				t.Errorf("CSV %s: %d %q", c.query, rec.Code, rec.Header().Get("Content-Type"))
			}
		}
		if rec := x.get("/admin/kpis.csv?period=last_month&group=variant", ck); rec.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(rec.Body.String(), "group must be month, crew or channel") {
			t.Errorf("CSV of an unknown group: %d\n%s", rec.Code, rec.Body.String())
		}
		// Two years less a day is the longest period.
		if rec := x.get("/admin?period=custom&from=2024-05-02&to=2026-05-01", ck); rec.Code != http.StatusOK {
			t.Errorf("two years: %d", rec.Code)
		}
	})
}
