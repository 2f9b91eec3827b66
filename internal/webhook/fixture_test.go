package webhook_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/webhook"
)

// fixture is routeloop wired as in production over a test database, with
// Greenway (Los Angeles, USD) holding one signing secret.
type fixture struct {
	t        testing.TB
	app      *app.App
	store    *store.Store
	clock    *clock.Fixed
	greenway string
	secret   string
}

var start = time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, s *store.Store) *fixture {
	t.Helper()
	c := clock.NewFixed(start)
	a, g := apptest.New(t, s, c, "Greenway")
	_, secret, err := a.Webhooks.CreateSecret(context.Background(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, app: a, store: s, clock: c, greenway: g.ID, secret: secret}
}

// event builds a Standard Webhooks payload.
func event(typ string, data map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"type": typ, "timestamp": "2026-05-01T15:59:00Z", "data": data})
	if err != nil {
		panic(err)
	}
	return b
}

// signed is a delivery to Greenway signed with secret at the clock's now.
func (f *fixture) signed(secret, id string, body []byte) webhook.Delivery {
	f.t.Helper()
	now := f.clock.Now()
	sig, err := webhook.Sign(secret, id, now, body)
	if err != nil {
		f.t.Fatal(err)
	}
	return webhook.Delivery{TenantID: f.greenway, ID: id, Timestamp: strconv.FormatInt(now.Unix(), 10), Signature: sig, Body: body}
}

// deliver sends a signed delivery to Greenway.
func (f *fixture) deliver(id string, body []byte) (webhook.Result, error) {
	f.t.Helper()
	return f.app.Webhooks.Receive(context.Background(), f.signed(f.secret, id, body), f.clock.Now())
}

// mustDeliver fails unless the delivery is applied; it returns the result's
// "result" (created, updated or stale).
func (f *fixture) mustDeliver(id string, body []byte) string {
	f.t.Helper()
	res, err := f.deliver(id, body)
	if err != nil {
		f.t.Fatalf("deliver %s: %v", id, err)
	}
	var out struct{ Result string }
	if err := json.Unmarshal(res.Body, &out); err != nil || res.Status != 200 {
		f.t.Fatalf("deliver %s: %d %s", id, res.Status, res.Body)
	}
	return out.Result
}

// seed mirrors Angie and the North crew.
func (f *fixture) seed() {
	f.t.Helper()
	f.mustDeliver("seed-angie", event("customer.upserted", map[string]any{"external_id": "angie", "name": "Angie Baker",
		"address": "14 Maple St", "lat": 45.4655, "lon": -122.6501, "consent_same_day": true}))
	f.mustDeliver("seed-north", event("crew.upserted", map[string]any{"external_id": "north", "name": "North crew",
		"depot_lat": 45.55, "depot_lon": -122.66, "members": []any{map[string]any{"external_id": "sam", "name": "Sam"}}}))
}

func (f *fixture) count(table string) int64 {
	f.t.Helper()
	var n int64
	if err := f.store.DB.Table(table).Count(&n).Error; err != nil {
		f.t.Fatal(err)
	}
	return n
}

// code returns an error's apperror code ("" for none).
func code(err error) string {
	if ae, ok := apperror.As(err); ok {
		return ae.Code
	}
	return ""
}
