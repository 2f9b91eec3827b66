package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// street of houses along SE Maple, 100 m apart, east of a depot.
func (h *harness) mapleStreet(n int) {
	h.t.Helper()
	h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.4600, "depot_lon": -122.6600})
	h.must(201, "PUT", "/api/v1/crews/south", map[string]any{"name": "South", "depot_lat": 45.4000, "depot_lon": -122.6000})
	for i := 0; i < n; i++ {
		h.must(201, "PUT", fmt.Sprintf("/api/v1/customers/m%d", i), map[string]any{"name": fmt.Sprintf("Maple %d", i),
			"address": fmt.Sprintf("%d SE Maple St", 100+i*10), "lat": 45.4655, "lon": -122.6500 + float64(i)*0.00128, "consent_same_day": true})
	}
}

func TestSuggestionsPutTheFriendNextToTheNeighbour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.mapleStreet(6)
		// Tuesday: m0, m1, m3 on North's route; Wednesday: m4, m5.
		for i, id := range []string{"m0", "m1", "m3"} {
			h.must(201, "PUT", "/api/v1/visits/tue-"+id, map[string]any{"customer_id": id, "crew_id": "north", "service_date": "2026-05-05", "route_position": i + 1, "duration_min": 30, "price_cents": 4500})
		}
		for i, id := range []string{"m4", "m5"} {
			h.must(201, "PUT", "/api/v1/visits/wed-"+id, map[string]any{"customer_id": id, "crew_id": "north", "service_date": "2026-05-06", "route_position": i + 1, "duration_min": 30, "price_cents": 4500})
		}
		h.must(201, "POST", "/api/v1/neighbor-links", map[string]any{"customer_a": "m2", "customer_b": "m1"})
		r := h.must(200, "GET", "/api/v1/customers/m2/suggestions?from=2026-05-04&to=2026-05-08&duration_min=30", nil)
		slots := r.Body["suggestions"].([]any)
		if len(slots) == 0 {
			t.Fatalf("no suggestions: %s", r.Raw)
		}
		best := slots[0].(map[string]any)
		nb, _ := best["linked_neighbor"].(map[string]any)
		if best["date"] != "2026-05-05" || best["crew_id"] != "north" || nb == nil || nb["customer_id"] != "m1" || best["position"] != 3.0 {
			t.Fatalf("best slot: %v", best)
		}
		added, alone, saved := best["added_km"].(float64), best["standalone_km"].(float64), best["km_saved_vs_standalone"].(float64)
		if !(added < alone) || saved <= 0 || fmt.Sprintf("%.2f", alone-added) != fmt.Sprintf("%.2f", saved) {
			t.Fatalf("added %v, alone %v, saved %v", added, alone, saved)
		}
		// Days without a linked neighbour follow, cheapest first.
		for i := 2; i < len(slots); i++ {
			a, b := slots[i-1].(map[string]any), slots[i].(map[string]any)
			if a["linked_neighbor"] == nil && b["linked_neighbor"] == nil && a["added_minutes"].(float64) > b["added_minutes"].(float64) {
				t.Fatalf("not ranked by added minutes: %v then %v", a, b)
			}
		}
		// A full day is not offered.
		h.must(200, "PUT", "/api/v1/program", map[string]any{"workday_minutes": 100})
		r = h.must(200, "GET", "/api/v1/customers/m2/suggestions?from=2026-05-05&to=2026-05-05", nil)
		for _, sl := range r.Body["suggestions"].([]any) {
			if m := sl.(map[string]any); m["crew_id"] == "north" {
				t.Fatalf("North's full Tuesday suggested: %v", m)
			}
		}
		for q, field := range map[string]string{"from=2026-04-01": "from", "from=2026-05-10&to=2026-05-04": "to", "duration_min=0": "duration_min", "from=2026-05-04&to=2026-09-30": "to"} {
			if x := h.do("GET", "/api/v1/customers/m2/suggestions?"+q, h.keys[tenant.RoleAdmin], nil); x.Status != 422 || x.field(field) == "" {
				t.Errorf("%s: %d %s", q, x.Status, x.Raw)
			}
		}
	})
}

func TestBookingALinkedVisit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.mapleStreet(4)
		for i, id := range []string{"m0", "m1", "m3"} {
			h.must(201, "PUT", "/api/v1/visits/tue-"+id, map[string]any{"customer_id": id, "crew_id": "north", "service_date": "2026-05-05", "route_position": i + 1, "duration_min": 30, "price_cents": 4500})
		}
		disp := h.keys[tenant.RoleDispatcher]
		b := h.do("POST", "/api/v1/linked-visits", disp, map[string]any{"customer_id": "m2", "date": "2026-05-05", "crew_id": "north", "position": 3, "price_cents": 4500})
		if b.Status != 201 || b.Body["km_saved_vs_standalone"].(float64) <= 0 {
			t.Fatalf("booking: %d %s", b.Status, b.Raw)
		}
		route := b.Body["route"].(map[string]any)
		var order []string
		var legs float64
		for _, st := range route["stops"].([]any) {
			m := st.(map[string]any)
			order = append(order, fmt.Sprintf("%s@%v", m["customer_id"], m["position"]))
			legs += m["leg_km"].(float64)
		}
		if strings.Join(order, ",") != "m0@1,m1@2,m2@3,m3@4" {
			t.Fatalf("route after booking: %v", order)
		}
		if total := route["total_km"].(float64); fmt.Sprintf("%.1f", legs+route["return_km"].(float64)) != fmt.Sprintf("%.1f", total) {
			t.Fatalf("legs %v + return %v ≠ total %v", legs, route["return_km"], total)
		}
		got := h.must(200, "GET", "/api/v1/crews/north/route?date=2026-05-05", nil)
		if len(got.Body["stops"].([]any)) != 4 {
			t.Fatalf("day route: %s", got.Raw)
		}
		var booked int64
		s.DB.Raw(`SELECT COUNT(*) FROM outbox_events WHERE kind = 'visit.booked'`).Scan(&booked)
		if booked != 1 {
			t.Fatalf("%d visit.booked events", booked)
		}
		// Route savings are measured, not claimed at booking: nothing while
		// the visit is only booked and m2 has no linked neighbour; once m2
		// and m1 are linked and both visits are done, both count.
		sv := h.must(200, "GET", "/api/v1/insights/route-savings?from=2026-05-01&to=2026-05-31", nil)
		if sv.Body["visits"] != 0.0 || sv.Body["value_cents"] != 0.0 {
			t.Fatalf("savings of a booking: %s", sv.Raw)
		}
		h.must(201, "POST", "/api/v1/neighbor-links", map[string]any{"customer_a": "m2", "customer_b": "m1"})
		for id, v := range map[string]map[string]any{
			"tue-m1":                    {"customer_id": "m1", "route_position": 2},
			b.Body["visit_id"].(string): {"customer_id": "m2", "route_position": 3},
		} {
			v["crew_id"], v["service_date"], v["status"], v["duration_min"], v["price_cents"] = "north", "2026-05-05", "completed", 30, 4500
			h.must(200, "PUT", "/api/v1/visits/"+id, v)
		}
		sv = h.must(200, "GET", "/api/v1/insights/route-savings?from=2026-05-01&to=2026-05-31&crew_id=north", nil)
		if sv.Body["visits"] != 2.0 || sv.Body["km_saved"].(float64) <= 0 || sv.Body["value_cents"].(float64) <= 0 || len(sv.Body["rows"].([]any)) != 1 {
			t.Fatalf("savings: %s", sv.Raw)
		}
		for name, c := range map[string]struct {
			body   map[string]any
			status int
		}{
			"in the past":      {map[string]any{"customer_id": "m2", "date": "2026-04-28", "crew_id": "north"}, 422},
			"already on it":    {map[string]any{"customer_id": "m2", "date": "2026-05-05", "crew_id": "north"}, 409},
			"no such position": {map[string]any{"customer_id": "m2", "date": "2026-05-07", "crew_id": "north", "position": 9}, 422},
			"unknown crew":     {map[string]any{"customer_id": "m2", "date": "2026-05-07", "crew_id": "east"}, 422},
		} {
			if r := h.do("POST", "/api/v1/linked-visits", disp, c.body); r.Status != c.status {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		// Two dispatchers book the last room of Thursday at once: one wins.
		h.must(200, "PUT", "/api/v1/program", map[string]any{"workday_minutes": 60})
		var wg sync.WaitGroup
		codes := make(chan int, 2)
		for _, who := range []string{"m0", "m1"} {
			wg.Add(1)
			go func(who string) {
				defer wg.Done()
				codes <- h.do("POST", "/api/v1/linked-visits", disp, map[string]any{"customer_id": who, "date": "2026-05-07", "crew_id": "north", "duration_min": 40}).Status
			}(who)
		}
		wg.Wait()
		close(codes)
		var won, full int
		for c := range codes {
			switch c {
			case 201:
				won++
			case 409:
				full++
			}
		}
		if won != 1 || full != 1 {
			t.Fatalf("last slot: %d won, %d told it is full", won, full)
		}
	})
}

func TestOptimizingRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.mapleStreet(5)
		// Planned badly: 4, 0, 3, 1, 2; m1 and m2 are linked and must stay together.
		for i, id := range []string{"m4", "m0", "m3", "m1", "m2"} {
			h.must(201, "PUT", "/api/v1/visits/thu-"+id, map[string]any{"customer_id": id, "crew_id": "north", "service_date": "2026-05-07", "route_position": i + 1, "price_cents": 4500})
		}
		h.must(201, "POST", "/api/v1/neighbor-links", map[string]any{"customer_a": "m1", "customer_b": "m2"})
		p := h.must(200, "POST", "/api/v1/crews/north/route/optimize?date=2026-05-07", nil)
		if p.Body["applied"] != false || p.Body["proposed_km"].(float64) >= p.Body["current_km"].(float64) {
			t.Fatalf("proposal: %s", p.Raw)
		}
		order := p.Body["order"].([]any)
		at := map[any]int{}
		for i, v := range order {
			at[v] = i
		}
		if d := at["thu-m1"] - at["thu-m2"]; d != 1 && d != -1 {
			t.Fatalf("linked neighbours split: %v", order)
		}
		if r := h.must(200, "GET", "/api/v1/crews/north/route?date=2026-05-07", nil); r.Body["stops"].([]any)[0].(map[string]any)["customer_id"] != "m4" {
			t.Fatal("a proposal changed the route")
		}
		applied := h.must(200, "POST", "/api/v1/crews/north/route/optimize?date=2026-05-07&apply=true", nil)
		if applied.Body["applied"] != true || applied.Body["route"].(map[string]any)["total_km"].(float64) != p.Body["proposed_km"].(float64) {
			t.Fatalf("applied: %s", applied.Raw)
		}
		// Ad hoc stops.
		stops := []any{}
		for i := 0; i < 12; i++ {
			stops = append(stops, map[string]any{"id": fmt.Sprintf("s%d", i), "lat": 45.46 + float64(i%4)*0.01, "lon": -122.65 + float64(i/4)*0.01, "service_min": 20})
		}
		o := h.must(200, "POST", "/api/v1/routes/optimize", map[string]any{"depot": map[string]any{"lat": 45.45, "lon": -122.66}, "stops": stops, "return_to_depot": true})
		if len(o.Body["order"].([]any)) != 12 || o.Body["distance_m"].(float64) > o.Body["improved_from_m"].(float64) || o.Body["duration_min"].(float64) < 240 {
			t.Fatalf("optimize: %s", o.Raw)
		}
		many := make([]any, 2001)
		for i := range many {
			many[i] = map[string]any{"id": fmt.Sprint(i), "lat": 45.5, "lon": -122.6}
		}
		if r := h.do("POST", "/api/v1/routes/optimize", h.keys[tenant.RoleAdmin], map[string]any{"depot": map[string]any{"lat": 45.45, "lon": -122.66}, "stops": many}); r.Status != 413 || r.errorCode() != "body_too_large" ||
			r.message() != "at most 2000 stops per request; this one has 2001" {
			t.Fatalf("2001 stops: %d %.200s", r.Status, r.Raw)
		}
		for name, body := range map[string]any{
			"duplicate ids":  map[string]any{"depot": map[string]any{"lat": 45.45, "lon": -122.66}, "stops": []any{map[string]any{"id": "a", "lat": 45.5, "lon": -122.6}, map[string]any{"id": "a", "lat": 45.6, "lon": -122.6}}},
			"no coordinates": map[string]any{"depot": map[string]any{"lat": 45.45, "lon": -122.66}, "stops": []any{map[string]any{"id": "a"}}},
			"no depot":       map[string]any{"stops": []any{map[string]any{"id": "a", "lat": 45.5, "lon": -122.6}}},
		} {
			if r := h.do("POST", "/api/v1/routes/optimize", h.keys[tenant.RoleAdmin], body); r.Status != 422 {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
	})
}

// Three neighbours all linked to each other stay together as a chain.
func TestOptimizingKeepsATriangleOfNeighboursTogether(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	h := newHarness(t, s)
	h.mapleStreet(6)
	for i, id := range []string{"m5", "m0", "m3", "m1", "m4", "m2"} {
		h.must(201, "PUT", "/api/v1/visits/fri-"+id, map[string]any{"customer_id": id, "crew_id": "north", "service_date": "2026-05-08", "route_position": i + 1, "price_cents": 4500})
	}
	for _, pr := range [][2]string{{"m0", "m3"}, {"m3", "m5"}, {"m0", "m5"}} {
		h.must(201, "POST", "/api/v1/neighbor-links", map[string]any{"customer_a": pr[0], "customer_b": pr[1]})
	}
	p := h.must(200, "POST", "/api/v1/crews/north/route/optimize?date=2026-05-08", nil)
	at := map[string]int{}
	for i, v := range p.Body["order"].([]any) {
		at[v.(string)] = i
	}
	lo, hi := 99, -1
	for _, id := range []string{"fri-m0", "fri-m3", "fri-m5"} {
		lo, hi = min(lo, at[id]), max(hi, at[id])
	}
	if hi-lo != 2 {
		t.Fatalf("the three linked neighbours are not together: %v", p.Body["order"])
	}
}
