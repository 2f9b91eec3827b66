package webhook_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/webhook"
)

func obj(typ, id string, data map[string]any) webhook.BatchObject {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	return webhook.BatchObject{Type: typ, ExternalID: id, Data: raw}
}

func TestABatchAppliesEachObjectOnItsOwnInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		g, _ := f.app.Tenants.Get(ctx, f.greenway)
		target := webhook.Tenant{ID: g.ID, Location: g.Location(), Currency: g.Currency}
		in := webhook.BatchInput{Objects: []webhook.BatchObject{
			// A visit before its customer is refused; the same visit after it goes in.
			obj("visit", "v0", map[string]any{"customer_id": "angie", "service_date": "2026-05-05"}),
			obj("customer", "angie", map[string]any{"name": "Angie Baker", "lat": 45.4655, "lon": -122.6501, "consent_same_day": true}),
			obj("customer", "bad", map[string]any{"name": "", "lat": 91, "lon": 0}),
			obj("crew", "north", map[string]any{"name": "North crew", "depot_lat": 45.55, "depot_lon": -122.66}),
			obj("visit", "v0", map[string]any{"customer_id": "angie", "crew_id": "north", "service_date": "2026-05-05", "price_cents": 4500}),
			obj("invoice", "inv1", map[string]any{"customer_id": "angie", "lines": []any{map[string]any{"visit_id": "v0", "description": "Mowing", "amount_cents": 4500}}}),
			obj("lawn", "x", map[string]any{}),
			obj("customer", "has space", map[string]any{"name": "Spacey"}),
			obj("customer", "angie", map[string]any{"name": "Angie B.", "colour": "red"}),
			{Type: "customer", ExternalID: "nodata"},
			obj("customer", "angie", map[string]any{"name": "Angie B."}),
		}}
		rep, err := f.app.Webhooks.ApplyBatch(ctx, target, in)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ status, field string }{
			{"error", "data.customer_id"},
			{"created", ""},
			{"error", "data.lat"},
			{"created", ""},
			{"created", ""},
			{"created", ""},
			{"error", "type"},
			{"error", "external_id"},
			{"error", "data.colour"},
			{"error", "data"},
			{"updated", ""},
		}
		if len(rep.Results) != len(want) {
			t.Fatalf("%d results for %d objects", len(rep.Results), len(want))
		}
		for i, w := range want {
			r := rep.Results[i]
			if r.Index != i || r.Status != w.status || r.ExternalID != in.Objects[i].ExternalID || r.Type != in.Objects[i].Type {
				t.Errorf("object %d: %+v, want %s", i, r, w.status)
			}
			if w.field != "" && (r.Error == nil || r.Error.Fields[w.field] == "") {
				t.Errorf("object %d: error %+v, want one about %s", i, r.Error, w.field)
			}
			if w.field == "" && r.Error != nil {
				t.Errorf("object %d: unexpected error %+v", i, r.Error)
			}
		}
		if rep.Created != 4 || rep.Updated != 1 || rep.Failed != 6 || rep.Stale != 0 {
			t.Errorf("totals %+v", rep)
		}
		if bad := rep.Results[2].Error; bad.Fields["data.name"] == "" || bad.Code != "validation_failed" {
			t.Errorf("all of a bad object's fields are reported: %+v", bad)
		}
		if c, _ := f.app.Mirror.Customer(ctx, f.greenway, "angie"); c.Name != "Angie B." {
			t.Errorf("later objects see earlier ones: name %q", c.Name)
		}
		if n := f.count("customers"); n != 1 {
			t.Errorf("%d customers stored; the refused ones left rows", n)
		}
	})
}

func TestABatchOverTheLimitIsRefusedWhole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		objs := make([]webhook.BatchObject, webhook.MaxBatchObjects+1)
		for i := range objs {
			objs[i] = obj("customer", "c", map[string]any{"name": "C"})
		}
		_, err := f.app.Webhooks.ApplyBatch(context.Background(), webhook.Tenant{ID: f.greenway}, webhook.BatchInput{Objects: objs})
		if code(err) != "body_too_large" {
			t.Fatalf("%d objects: %v", len(objs), err)
		}
		if _, err := f.app.Webhooks.ApplyBatch(context.Background(), webhook.Tenant{ID: f.greenway}, webhook.BatchInput{}); code(err) != "validation_failed" {
			t.Fatalf("no objects list: %v", err)
		}
		if n := f.count("customers"); n != 0 {
			t.Fatalf("%d customers", n)
		}
	})
}

func TestABatchStaysInItsTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		f.seed()
		rival := apptest.Tenant(t, f.app.Tenants, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
		rep, err := f.app.Webhooks.ApplyBatch(ctx, webhook.Tenant{ID: rival.ID, Location: rival.Location(), Currency: rival.Currency},
			webhook.BatchInput{Objects: []webhook.BatchObject{
				obj("customer", "angie", map[string]any{"name": "Not Angie"}),
				obj("visit", "v9", map[string]any{"customer_id": "angie-elsewhere", "crew_id": "north", "service_date": "2026-05-05"}),
			}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Results[0].Status != "created" || rep.Results[1].Error == nil || rep.Results[1].Error.Fields["data.crew_id"] == "" {
			t.Fatalf("Rival's batch: %+v %+v", rep.Results[0], rep.Results[1].Error)
		}
		if c, _ := f.app.Mirror.Customer(ctx, f.greenway, "angie"); c.Name != "Angie Baker" {
			t.Fatalf("Greenway's Angie is now %q", c.Name)
		}
	})
}
