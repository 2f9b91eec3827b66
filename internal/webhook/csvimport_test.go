package webhook_test

import (
	"context"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/webhook"
)

func TestImportCSVLoadsGoodRowsAndNamesBadOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		imp := func(kind, file string) webhook.ImportReport {
			t.Helper()
			var calls, last int
			rep, err := f.app.Webhooks.ImportCSV(ctx, f.greenway, kind, strings.NewReader(file), func(done, total int) {
				calls++
				last = done
				if total != rep0(file) {
					t.Errorf("%s: progress total %d, want %d rows", kind, total, rep0(file))
				}
			})
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			if calls != rep.Objects || last != rep.Rows {
				t.Errorf("%s: progress called %d times up to %d, for %d objects and %d rows", kind, calls, last, rep.Objects, rep.Rows)
			}
			return rep
		}

		customers := "\ufeffexternal_id,name,email,phone,address,lat,lon,consent_same_day\n" +
			"angie,Angie Baker,angie@example.com,503 555 0100,14 Maple St,45.4655,-122.6501,true\n" +
			"ben,Ben Cho,,,22 Maple St,45.4662,-122.6499,yes\n" +
			"bad-lat,Dot,,,1 Elm St,north,-122.6,false\n" +
			"bad-email,Ed,not-an-email,,,,,\n" +
			"short,row\n" +
			"\"quoted, name\",\"Fay \"\"F\"\" Lu\",,,,,,0\n"
		rep := imp("customers", customers)
		if rep.Rows != 6 || rep.Created != 2 || rep.Updated != 0 || rep.Failed != 4 {
			t.Fatalf("customers: %+v", rep)
		}
		got := []string{}
		for _, e := range rep.Errors {
			got = append(got, e.String())
		}
		for i, want := range []string{`row 4 (external_id "bad-lat"): lat: must be a number`, `row 5 (external_id "bad-email"): email:`, `row 6 (external_id "short"): the row has 2 cells`,
			`row 7 (external_id "quoted, name"): external_id: may hold only letters, digits`} {
			if i >= len(got) || !strings.Contains(got[i], want) {
				t.Errorf("error %d: %q, want %q", i, got, want)
			}
		}
		if c, _ := f.app.Mirror.Customer(ctx, f.greenway, "ben"); !c.ConsentSameDay || c.Lat == nil {
			t.Fatalf("ben: %+v", c)
		}

		crews := "external_id,name,depot_lat,depot_lon,member_id,member_name,member_email\n" +
			"north,North crew,45.55,-122.66,sam,Sam,sam@example.com\n" +
			"north,,,,kim,Kim,\n" +
			"south,South crew,45.40,-122.70,,,\n"
		if rep := imp("crews", crews); rep.Rows != 3 || rep.Objects != 2 || rep.Created != 2 || rep.Failed != 0 {
			t.Fatalf("crews: %+v", rep)
		}
		if cr, _ := f.app.Mirror.Crew(ctx, f.greenway, "north"); len(cr.Members) != 2 {
			t.Fatalf("north crew: %+v", cr)
		}

		visits := "external_id,customer_id,crew_id,service_date,start_at,route_position,duration_min,status,price_cents\n" +
			"v1,angie,north,2026-05-05,2026-05-05T08:30:00-07:00,1,45,scheduled,4500\n" +
			"v2,ben,north,2026-05-05,,2,,completed,3900\n" +
			"v3,nobody,north,2026-05-05,,,,,100\n" +
			"v4,angie,,05/05/2026,,,,,100\n"
		rep = imp("visits", visits)
		if rep.Created != 2 || rep.Failed != 2 || !strings.Contains(rep.Errors[0].String(), "customer_id") || !strings.Contains(rep.Errors[1].String(), "service_date") {
			t.Fatalf("visits: %+v %v", rep, rep.Errors)
		}

		invoices := "external_id,customer_id,status,visit_id,description,amount_cents\n" +
			"inv1,angie,draft,v1,Mowing,4500\n" +
			"inv2,ben,draft,v2,Hedge,3900\n" +
			"inv1,,,,Edging,1200\n" +
			"inv3,ben,draft,,Leaves,abc\n" +
			"inv2,angie,,,Mulch,800\n"
		rep = imp("invoices", invoices)
		if rep.Rows != 5 || rep.Objects != 3 || rep.Created != 1 || rep.Failed != 2 {
			t.Fatalf("invoices: %+v %v", rep, rep.Errors)
		}
		if e := rep.Errors[0].String(); !strings.HasPrefix(e, `rows 3, 6 (external_id "inv2")`) || !strings.Contains(e, "disagree") {
			t.Errorf("inv2: %s", e)
		}
		if inv, err := f.app.Invoices.Get(ctx, f.greenway, "inv1"); err != nil || inv.SubtotalCents != 5700 {
			t.Fatalf("inv1: %+v %v", inv, err)
		}
	})
}

// rep0 counts a file's data rows.
func rep0(file string) int { return strings.Count(strings.TrimSuffix(file, "\n"), "\n") }

func TestImportCSVRefusesAFileItCannotRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		for name, file := range map[string]string{
			"an unknown column": "external_id,name,colour\nangie,Angie,red\n",
			"no external_id":    "name\nAngie\n",
			"a column twice":    "external_id,name,name\nangie,A,B\n",
			"bad quoting":       "external_id,name\nangie,\"Angie\n",
			"nothing":           "",
		} {
			_, err := f.app.Webhooks.ImportCSV(ctx, f.greenway, "customers", strings.NewReader(file), nil)
			if code(err) != "bad_request" {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := f.app.Webhooks.ImportCSV(ctx, "nope", "customers", strings.NewReader("external_id\n"), nil); code(err) != "not_found" {
			t.Errorf("unknown tenant: %v", err)
		}
		if n := f.count("customers"); n != 0 {
			t.Fatalf("%d customers loaded from files that were refused", n)
		}
		for file, want := range map[string]string{"exports/Customers-2026.csv": "customers", "visits.csv": "visits", "crews.CSV": "crews", "data.csv": ""} {
			if got := webhook.CSVKindOf(file); got != want {
				t.Errorf("CSVKindOf(%s) = %q, want %q", file, got, want)
			}
		}
	})
}

// A CSV export with NUL, control characters, ANSI escapes or invalid UTF-8
// in a name has those rows refused, naming the field; the clean rows load.
func TestImportCSVRefusesTextOutsideTheInputRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		file := "external_id,name,address\n" +
			"angie,Angie Baker,14 Maple St\n" +
			"cleo,Cleo\x00Day,1 Elm St\n" +
			"dan,\x1b[31mDan,2 Elm St\n" +
			"eve,Eve \xff,3 Elm St\n" +
			"fay,Fay Lu,\"4 Elm St\nPortland\"\n"
		rep, err := f.app.Webhooks.ImportCSV(context.Background(), f.greenway, "customers", strings.NewReader(file), nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != 1 || rep.Failed != 4 || len(rep.Errors) != 4 {
			t.Fatalf("report %+v", rep)
		}
		for i, want := range []string{"name: must not contain NUL", "name: must not contain control characters", "name: must be valid UTF-8", "address: must be one line"} {
			if got := rep.Errors[i].String(); !strings.Contains(got, want) {
				t.Errorf("error %d: %q, want %q", i, got, want)
			}
		}
		if n := f.count("customers"); n != 1 {
			t.Fatalf("%d customers, want only Angie", n)
		}
	})
}
