package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/webhook"
)

func visitData(id string, price int, extra ...any) map[string]any {
	d := map[string]any{"external_id": id, "customer_id": "angie", "crew_id": "north", "service_date": "2026-05-05", "price_cents": price}
	for i := 0; i+1 < len(extra); i += 2 {
		d[extra[i].(string)] = extra[i+1]
	}
	return d
}

func TestEachEventTypeGoesThroughItsPut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		f.seed()
		if got := f.mustDeliver("msg-visit", event("visit.upserted", visitData("v1", 4500, "start_at", "2026-05-05T08:30:00-07:00"))); got != "created" {
			t.Fatalf("visit: %s", got)
		}
		res, err := f.deliver("msg-invoice", event("invoice.upserted", map[string]any{"external_id": "inv1", "customer_id": "angie",
			"lines": []any{map[string]any{"visit_id": "v1", "description": "Mowing", "amount_cents": 4500}}}))
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]string
		if err := json.Unmarshal(res.Body, &out); err != nil || res.Replay {
			t.Fatalf("%s %v", res.Body, err)
		}
		want := map[string]string{"webhook_id": "msg-invoice", "type": "invoice.upserted", "external_id": "inv1", "result": "created"}
		for k, v := range want {
			if out[k] != v {
				t.Errorf("result %s = %q, want %q (%s)", k, out[k], v, res.Body)
			}
		}
		c, err := f.app.Mirror.Customer(ctx, f.greenway, "angie")
		if err != nil || c.Name != "Angie Baker" || !c.ConsentSameDay || c.ReferralCode == "" {
			t.Fatalf("customer: %+v %v", c, err)
		}
		cr, err := f.app.Mirror.Crew(ctx, f.greenway, "north")
		if err != nil || len(cr.Members) != 1 || cr.Members[0].Name != "Sam" {
			t.Fatalf("crew: %+v %v", cr, err)
		}
		v, err := f.app.Mirror.Visit(ctx, f.greenway, "v1")
		if err != nil || v.PriceCents != 4500 || v.ServiceDate.String() != "2026-05-05" || v.StartAt == nil || v.StartAt.Hour() != 15 {
			t.Fatalf("visit: %+v %v", v, err)
		}
		inv, err := f.app.Invoices.Get(ctx, f.greenway, "inv1")
		if err != nil || inv.SubtotalCents != 4500 || inv.Currency != "USD" {
			t.Fatalf("invoice: %+v %v", inv, err)
		}
		if n := f.count("webhook_inbox"); n != 4 {
			t.Errorf("%d inbox rows, want one per delivery (4)", n)
		}
	})
}

func TestAReplayAnswersTheFirstResultAndChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		f.seed()
		first, err := f.deliver("msg-1", event("visit.upserted", visitData("v1", 4500)))
		if err != nil {
			t.Fatal(err)
		}
		before, _ := f.app.Mirror.Visit(context.Background(), f.greenway, "v1")
		f.clock.Advance(time.Minute)
		// The same id again — even with another body — is the same delivery.
		for _, body := range [][]byte{event("visit.upserted", visitData("v1", 4500)), event("visit.upserted", visitData("v1", 9900))} {
			again, err := f.deliver("msg-1", body)
			if err != nil {
				t.Fatal(err)
			}
			if !again.Replay || again.Status != 200 || string(again.Body) != string(first.Body) {
				t.Fatalf("replay answered %d %s (replay %v), first %s", again.Status, again.Body, again.Replay, first.Body)
			}
		}
		after, _ := f.app.Mirror.Visit(context.Background(), f.greenway, "v1")
		if after.PriceCents != 4500 || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Fatalf("the replay changed the visit: %+v, before %+v", after, before)
		}
		if n := storetest.Count(t, s.DB.Where("webhook_id = ?", "msg-1"), "webhook_inbox"); n != 1 {
			t.Fatalf("%d inbox rows for msg-1", n)
		}
	})
}

func TestTwentyConcurrentDeliveriesOfOneIDMakeOneChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		f.seed()
		var changes atomic.Int64
		f.app.Mirror.OnVisitChange(func(*gorm.DB, mirror.VisitChange) error {
			changes.Add(1)
			return nil
		})
		// First a create, then an update of the same visit, each sent 20
		// times at once under one webhook-id. The visit is completed, so
		// each write runs the listeners (a scheduled visit of a customer
		// without links changes nothing they watch, and skips them).
		for round, price := range []int{4500, 5200} {
			id := "msg-burst-" + strconv.Itoa(round)
			body := event("visit.upserted", visitData("v1", price, "status", "completed"))
			d := f.signed(f.secret, id, body)
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				bodies  = map[string]int{}
				firsts  int
				failed  []string
				release = make(chan struct{})
			)
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-release
					res, err := f.app.Webhooks.Receive(context.Background(), d, f.clock.Now())
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						failed = append(failed, err.Error())
						return
					}
					bodies[string(res.Body)]++
					if !res.Replay {
						firsts++
					}
				}()
			}
			close(release)
			wg.Wait()
			if len(failed) > 0 || len(bodies) != 1 || firsts != 1 {
				t.Fatalf("round %d: %d failed (%v), %d distinct answers %v, %d first results", round, len(failed), failed, len(bodies), bodies, firsts)
			}
			if got := changes.Load(); got != int64(round+1) {
				t.Fatalf("round %d: %d visit changes so far, want %d", round, got, round+1)
			}
		}
		if n := f.count("visits"); n != 1 {
			t.Fatalf("%d visits", n)
		}
		if n := storetest.Count(t, s.DB.Where("webhook_id LIKE ?", "msg-burst-%"), "webhook_inbox"); n != 2 {
			t.Fatalf("%d inbox rows for two webhook-ids", n)
		}
	})
}

func TestOutOfOrderDeliveriesKeepTheNewerData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		f.seed()
		steps := []struct {
			id, updatedAt string
			price         int
			want          string
		}{
			{"msg-b", "2026-05-01T10:05:00Z", 5000, "created"},
			{"msg-a", "2026-05-01T10:00:00Z", 4000, "stale"}, // sent first, arrived last
			{"msg-c", "2026-05-01T10:10:00Z", 6000, "updated"},
			{"msg-a2", "2026-05-01T10:09:59Z", 4100, "stale"},
		}
		for _, st := range steps {
			if got := f.mustDeliver(st.id, event("visit.upserted", visitData("v1", st.price, "updated_at", st.updatedAt))); got != st.want {
				t.Fatalf("%s: %s, want %s", st.id, got, st.want)
			}
		}
		if v, _ := f.app.Mirror.Visit(ctx, f.greenway, "v1"); v.PriceCents != 6000 {
			t.Fatalf("price %d, want the newest 6000", v.PriceCents)
		}

		// Without updated_at in data, the event's own timestamp orders it.
		at := func(id, ts, name string) string {
			b, _ := json.Marshal(map[string]any{"type": "customer.upserted", "timestamp": ts,
				"data": map[string]any{"external_id": "ben", "name": name}})
			return f.mustDeliver(id, b)
		}
		if got := at("msg-ben-2", "2026-05-01T15:00:00Z", "Ben Two"); got != "created" {
			t.Fatal(got)
		}
		if got := at("msg-ben-1", "2026-05-01T14:00:00Z", "Ben One"); got != "stale" {
			t.Fatalf("an older event: %s", got)
		}
		if c, _ := f.app.Mirror.Customer(ctx, f.greenway, "ben"); c.Name != "Ben Two" {
			t.Fatalf("name %q", c.Name)
		}
	})
}

func TestARejectedDeliveryChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		f.seed()
		rival := apptest.Tenant(t, f.app.Tenants, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
		good := event("visit.upserted", visitData("v1", 4500))
		now := f.clock.Now()
		signedAt := func(at time.Time, id string, body []byte) webhook.Delivery {
			sig, _ := webhook.Sign(f.secret, id, at, body)
			return webhook.Delivery{TenantID: f.greenway, ID: id, Timestamp: strconv.FormatInt(at.Unix(), 10), Signature: sig, Body: body}
		}
		with := func(d webhook.Delivery, change func(*webhook.Delivery)) webhook.Delivery { change(&d); return d }
		huge := event("customer.upserted", map[string]any{"external_id": "x", "name": strings.Repeat("a", webhook.MaxBodyBytes)})
		cases := []struct {
			name  string
			d     webhook.Delivery
			code  string
			field string // for validation errors
			says  string // in the message
		}{
			{"no signature", with(f.signed(f.secret, "m1", good), func(d *webhook.Delivery) { d.Signature = "" }), "unauthorized", "", "required"},
			{"a wrong secret", f.signed(webhook.NewSecret(), "m2", good), "unauthorized", "", "no webhook-signature matches"},
			{"a tampered body", with(f.signed(f.secret, "m3", good), func(d *webhook.Delivery) {
				d.Body = event("visit.upserted", visitData("v1", 1))
			}), "unauthorized", "", "no webhook-signature matches"},
			{"a 6 minute old timestamp", signedAt(now.Add(-6*time.Minute), "m4", good), "unauthorized", "", "5 minutes"},
			{"a timestamp 6 minutes ahead", signedAt(now.Add(6*time.Minute), "m5", good), "unauthorized", "", "5 minutes"},
			{"an unknown tenant", with(f.signed(f.secret, "m6", good), func(d *webhook.Delivery) { d.TenantID = uuid.NewString() }), "unauthorized", "", "no webhook-signature matches"},
			{"a tenant id that is no id", with(f.signed(f.secret, "m7", good), func(d *webhook.Delivery) { d.TenantID = "greenway" }), "unauthorized", "", "no webhook-signature matches"},
			{"a tenant without secrets", with(f.signed(f.secret, "m8", good), func(d *webhook.Delivery) { d.TenantID = rival.ID }), "unauthorized", "", "no webhook-signature matches"},
			{"an unknown event type", f.signed(f.secret, "m9", event("lawn.mowed", visitData("v1", 4500))), "bad_request", "", `"lawn.mowed"`},
			{"a delete", f.signed(f.secret, "m10", event("customer.deleted", map[string]any{"external_id": "angie"})), "bad_request", "", "not supported yet"},
			{"no type", f.signed(f.secret, "m11", []byte(`{"data":{}}`)), "bad_request", "", "no type"},
			{"malformed JSON", f.signed(f.secret, "m12", []byte(`{"type":`)), "bad_request", "", "JSON"},
			{"no data", f.signed(f.secret, "m13", []byte(`{"type":"visit.upserted"}`)), "validation_failed", "data", ""},
			{"invalid data", f.signed(f.secret, "m14", event("customer.upserted", map[string]any{"external_id": "zed", "name": "Zed", "lat": 200, "lon": 0})), "validation_failed", "data.lat", ""},
			{"an unknown data field", f.signed(f.secret, "m15", event("customer.upserted", map[string]any{"external_id": "zed", "name": "Zed", "colour": "red"})), "validation_failed", "data.colour", ""},
			{"no external_id", f.signed(f.secret, "m16", event("customer.upserted", map[string]any{"name": "Zed"})), "validation_failed", "data.external_id", ""},
			{"a wrongly typed field", f.signed(f.secret, "m17", event("visit.upserted", visitData("v2", 0, "price_cents", "ten"))), "validation_failed", "data.price_cents", ""},
			{"an unknown envelope field", f.signed(f.secret, "m18", []byte(`{"type":"visit.upserted","data":{},"extra":1}`)), "validation_failed", "extra", ""},
			// Refused by the Put itself, after the delivery was claimed.
			{"a visit of an unknown customer", f.signed(f.secret, "m19", event("visit.upserted", visitData("v2", 4500, "customer_id", "nobody"))), "validation_failed", "data.customer_id", ""},
			{"a body over 1 MiB", f.signed(f.secret, "m20", huge), "body_too_large", "", "1 MiB"},
			{"a webhook-id over 200 bytes", f.signed(f.secret, strings.Repeat("m", 201), good), "bad_request", "", "webhook-id"},
		}
		before := map[string]int64{}
		tables := []string{"customers", "crews", "crew_members", "visits", "invoices", "webhook_inbox"}
		for _, tb := range tables {
			before[tb] = f.count(tb)
		}
		for _, c := range cases {
			_, err := f.app.Webhooks.Receive(ctx, c.d, now)
			ae, ok := apperror.As(err)
			switch {
			case !ok:
				t.Errorf("%s: %v, want a %s error", c.name, err, c.code)
				continue
			case ae.Code != c.code:
				t.Errorf("%s: %s, want %s", c.name, err, c.code)
			case c.field != "" && ae.Fields[c.field] == "":
				t.Errorf("%s: %s, want a message for %s", c.name, err, c.field)
			case !strings.Contains(ae.Message, c.says):
				t.Errorf("%s: %q does not say %q", c.name, ae.Message, c.says)
			}
		}
		for _, tb := range tables {
			if n := f.count(tb); n != before[tb] {
				t.Errorf("%s: %d rows after rejected deliveries, %d before", tb, n, before[tb])
			}
		}
		// A refused delivery is not remembered: fixed, the same id goes in.
		if got := f.mustDeliver("m19", event("visit.upserted", visitData("v2", 4500))); got != "created" {
			t.Fatalf("the fixed retry: %s", got)
		}
	})
}

func TestADeliveryStillBeingProcessedIsAConflictUntilAbandoned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		f.seed()
		// Another replica claimed msg-1 and is still working on it.
		if err := s.DB.Exec(`INSERT INTO webhook_inbox (tenant_id, webhook_id, event_type, status, result, received_at) VALUES (?, 'msg-1', 'visit.upserted', 0, '', ?)`,
			f.greenway, f.clock.Now()).Error; err != nil {
			t.Fatal(err)
		}
		f.app.Webhooks.ReplayWait = 50 * time.Millisecond
		_, err := f.deliver("msg-1", event("visit.upserted", visitData("v1", 4500)))
		var busy *webhook.InProgress
		if !errors.As(err, &busy) || code(err) != apperror.CodeConflict || busy.RetryAfter <= 0 {
			t.Fatalf("while in progress: %v", err)
		}
		if n := f.count("visits"); n != 0 {
			t.Fatalf("%d visits written while another claim holds the id", n)
		}
		// That replica died: after a minute a redelivery takes the claim over.
		f.clock.Advance(2 * time.Minute)
		if got := f.mustDeliver("msg-1", event("visit.upserted", visitData("v1", 4500))); got != "created" {
			t.Fatalf("after the claim was abandoned: %s", got)
		}
	})
}

func TestWebhookIDsAreDeduplicatedPerTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		rival := apptest.Tenant(t, f.app.Tenants, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
		_, rivalSecret, err := f.app.Webhooks.CreateSecret(ctx, rival.ID)
		if err != nil {
			t.Fatal(err)
		}
		body := event("customer.upserted", map[string]any{"external_id": "angie", "name": "Angie Baker"})
		f.mustDeliver("msg-1", body)
		// Rival's secret cannot sign for Greenway...
		if _, err := f.app.Webhooks.Receive(ctx, f.signed(rivalSecret, "msg-2", body), f.clock.Now()); code(err) != "unauthorized" {
			t.Fatalf("Rival's secret for Greenway: %v", err)
		}
		// ...and Rival's own msg-1 is Rival's: a new delivery, its own customer.
		d := f.signed(rivalSecret, "msg-1", event("customer.upserted", map[string]any{"external_id": "angie", "name": "Angela Rival"}))
		d.TenantID = rival.ID
		res, err := f.app.Webhooks.Receive(ctx, d, f.clock.Now())
		if err != nil || res.Replay || !strings.Contains(string(res.Body), `"created"`) {
			t.Fatalf("Rival's msg-1: %v %s", err, res.Body)
		}
		if c, _ := f.app.Mirror.Customer(ctx, f.greenway, "angie"); c.Name != "Angie Baker" {
			t.Fatalf("Greenway's Angie is now %q", c.Name)
		}
	})
}

func TestRotatedSecretsBothWorkUntilTheOldIsRevoked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		oldSecret := f.secret
		k, newSecret, err := f.app.Webhooks.CreateSecret(ctx, f.greenway)
		if err != nil {
			t.Fatal(err)
		}
		body := func(name string) []byte {
			return event("customer.upserted", map[string]any{"external_id": "angie", "name": name})
		}
		for i, secret := range []string{oldSecret, newSecret} {
			if _, err := f.app.Webhooks.Receive(ctx, f.signed(secret, "rot-"+strconv.Itoa(i), body("A")), f.clock.Now()); err != nil {
				t.Fatalf("secret %d during rotation: %v", i, err)
			}
		}
		secrets, _, _ := f.app.Webhooks.Secrets(ctx, f.greenway, store.Page{Limit: 10})
		if _, err := f.app.Webhooks.RevokeSecret(ctx, f.greenway, secrets[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.Webhooks.Receive(ctx, f.signed(oldSecret, "rot-old", body("B")), f.clock.Now()); code(err) != "unauthorized" {
			t.Fatalf("the revoked secret still verifies: %v", err)
		}
		if _, err := f.app.Webhooks.Receive(ctx, f.signed(newSecret, "rot-new", body("C")), f.clock.Now()); err != nil {
			t.Fatalf("the new secret %d after revoking the old: %v", k.ID, err)
		}
	})
}

func TestCleanInboxForgetsDeliveriesAfterSevenDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		body := event("customer.upserted", map[string]any{"external_id": "angie", "name": "Angie"})
		f.mustDeliver("old", body)
		f.clock.Advance(6 * 24 * time.Hour)
		f.mustDeliver("recent", body)
		f.clock.Advance(24*time.Hour + time.Second)
		n, err := f.app.Webhooks.CleanInbox(context.Background(), f.clock.Now())
		if err != nil || n != 1 {
			t.Fatalf("CleanInbox = %d, %v; want 1", n, err)
		}
		var left []string
		s.DB.Table("webhook_inbox").Pluck("webhook_id", &left)
		if len(left) != 1 || left[0] != "recent" {
			t.Fatalf("left %v", left)
		}
	})
}

// FuzzReceive sends any body, correctly signed, through the whole inbound
// path on SQLite: it is applied or refused with a 4xx error, never a 500
// and never a panic.
func FuzzReceive(f *testing.F) { fuzzReceive(f, store.SQLite) }

// FuzzReceivePostgres is FuzzReceive on PostgreSQL, which refuses bytes
// SQLite stores (NUL, invalid UTF-8): each must be a 4xx before it reaches
// the database. With CI=true an unreachable PostgreSQL fails it.
func FuzzReceivePostgres(f *testing.F) { fuzzReceive(f, store.Postgres) }

// receiveSeeds are the seed corpus of both receiver targets: every event
// type, and text with NUL bytes, control characters and invalid UTF-8 in
// each kind of field (raw and JSON-escaped).
func receiveSeeds() [][]byte {
	return [][]byte{
		event("visit.upserted", visitData("v1", 4500)),
		event("visit.upserted", visitData("v2", 4500, "crew_id", nil, "start_at", "2026-05-05T23:30:00-07:00", "status", "completed")),
		event("customer.upserted", map[string]any{"external_id": "ben", "name": "Ben", "lat": 45.4662, "lon": -122.6499, "email": "ben@example.com"}),
		event("crew.upserted", map[string]any{"external_id": "south", "name": "South", "depot_lat": 45.4, "depot_lon": -122.7, "members": []any{}}),
		event("invoice.upserted", map[string]any{"external_id": "inv1", "customer_id": "angie", "status": "issued",
			"lines": []any{map[string]any{"visit_id": "v1", "description": "Mowing", "amount_cents": 4500}}}),
		[]byte(`{"type":"invoice.upserted","data":{"external_id":"inv1","customer_id":"angie","status":"draft","lines":[]}}`),
		[]byte(`{"type":"customer.deleted","data":{}}`),
		// NUL, escaped and raw, in names, addresses, ids and descriptions.
		[]byte(`{"type":"customer.upserted","data":{"external_id":"nul","name":"Ben\u0000Baker","address":"1 Elm St"}}`),
		[]byte(`{"type":"customer.upserted","data":{"external_id":"nul","name":"Ben","address":"1 Elm\u0000St"}}`),
		[]byte("{\"type\":\"customer.upserted\",\"data\":{\"external_id\":\"nul\",\"name\":\"Ben\x00Baker\"}}"),
		[]byte(`{"type":"customer.upserted","data":{"external_id":"a\u0000b","name":"Ben"}}`),
		[]byte(`{"type":"crew.upserted","data":{"external_id":"east","name":"East","depot_lat":45.4,"depot_lon":-122.7,"members":[{"external_id":"m","name":"M\u0000"}]}}`),
		[]byte(`{"type":"invoice.upserted","data":{"external_id":"inv2","customer_id":"angie","lines":[{"description":"Mow\u0000ing","amount_cents":100}]}}`),
		[]byte(`{"type":"visit.upserted\u0000","data":{}}`),
		// Invalid UTF-8 (raw bytes JSON cannot escape) and control characters.
		[]byte("{\"type\":\"customer.upserted\",\"data\":{\"external_id\":\"utf\",\"name\":\"Ben \xff\xfe Baker\"}}"),
		[]byte("{\"type\":\"customer.upserted\",\"data\":{\"external_id\":\"utf\",\"name\":\"Ben\",\"address\":\"\xc3\x28 Elm St\"}}"),
		[]byte("{\"type\":\"visit.upserted\",\"data\":{\"external_id\":\"v\xed\xa0\x80\",\"customer_id\":\"angie\",\"service_date\":\"2026-05-05\",\"price_cents\":1}}"),
		[]byte(`{"type":"customer.upserted","data":{"external_id":"esc","name":"Ben\u001b[31mBaker","phone":"\u0007"}}`),
		[]byte(`{"type":"customer.upserted","data":{"external_id":"sur","name":"Ben\ud800Baker"}}`),
		[]byte("\x00"), []byte("\xff\xfe\xfd"),
	}
}

// fuzzReceive runs the receiver target on one database, sharing one store
// (and its tenant) across every input of the process.
func fuzzReceive(f *testing.F, dialect string) {
	fx := newFixture(f, storetest.Open(f, dialect))
	fx.seed()
	for _, seed := range receiveSeeds() {
		f.Add(seed)
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body []byte) {
		fx.receiveAny(t, "fuzz-"+strconv.FormatInt(n.Add(1), 10), body)
	})
}

// receiveAny delivers body, correctly signed, and fails unless it is
// applied (answering JSON, storing only clean text) or refused with a 4xx.
func (fx *fixture) receiveAny(t *testing.T, id string, body []byte) {
	now := fx.clock.Now()
	sig, err := webhook.Sign(fx.secret, id, now, body)
	if err != nil {
		t.Fatal(err)
	}
	res, err := fx.app.Webhooks.Receive(context.Background(), webhook.Delivery{TenantID: fx.greenway, ID: id,
		Timestamp: strconv.FormatInt(now.Unix(), 10), Signature: sig, Body: body}, now)
	if err == nil {
		if res.Status != 200 || !json.Valid(res.Body) {
			t.Fatalf("%q: answered %d %s", body, res.Status, res.Body)
		}
		if bad := fx.badStoredText(t, res.Body); bad != "" {
			t.Fatalf("%q: applied, and stored %s", body, bad)
		}
		return
	}
	switch code(err) {
	case apperror.CodeBadRequest, apperror.CodeValidation, apperror.CodeUnprocessable, apperror.CodeConflict, apperror.CodeTooLarge, apperror.CodeNotFound:
	default:
		t.Fatalf("%q: %v (a 500)", body, err)
	}
}

// storedRows are the rows an applied event of each type wrote, by the
// object's external id.
var storedRows = map[string][]string{
	"customer.upserted": {`SELECT * FROM customers WHERE tenant_id = ? AND external_id = ?`},
	"crew.upserted": {`SELECT * FROM crews WHERE tenant_id = ? AND external_id = ?`,
		`SELECT m.* FROM crew_members m JOIN crews c ON c.id = m.crew_id WHERE c.tenant_id = ? AND c.external_id = ?`},
	"visit.upserted": {`SELECT * FROM visits WHERE tenant_id = ? AND external_id = ?`},
	"invoice.upserted": {`SELECT * FROM invoices WHERE tenant_id = ? AND external_id = ?`,
		`SELECT l.* FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE i.tenant_id = ? AND i.external_id = ?`},
}

// badStoredText names a text column of the object an applied delivery
// wrote that holds invalid UTF-8, a NUL or another control character (but
// newline and tab), or "" when every one is clean.
func (f *fixture) badStoredText(t testing.TB, result []byte) string {
	t.Helper()
	var out struct {
		Type       string `json:"type"`
		ExternalID string `json:"external_id"`
	}
	if err := json.Unmarshal(result, &out); err != nil {
		t.Fatalf("result %s: %v", result, err)
	}
	if !utf8.ValidString(out.ExternalID) {
		return fmt.Sprintf("an external id of invalid UTF-8 %q", out.ExternalID)
	}
	for _, q := range storedRows[out.Type] {
		var rows []map[string]any
		if err := f.store.DB.Raw(q, f.greenway, out.ExternalID).Scan(&rows).Error; err != nil {
			t.Fatalf("read back %s %s: %v", out.Type, out.ExternalID, err)
		}
		if len(rows) == 0 && strings.HasPrefix(q, "SELECT * ") {
			return fmt.Sprintf("nothing for %s %q", out.Type, out.ExternalID)
		}
		for _, row := range rows {
			for col, v := range row {
				var text string
				switch v := v.(type) {
				case string:
					text = v
				case []byte:
					text = string(v)
				default:
					continue
				}
				if !utf8.ValidString(text) {
					return fmt.Sprintf("invalid UTF-8 in %s: %q", col, text)
				}
				for _, r := range text {
					if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
						return fmt.Sprintf("control character %U in %s: %q", r, col, text)
					}
				}
			}
		}
	}
	return ""
}

// fieldEvents are valid events with one text field left open (%s, a JSON
// string), so the field fuzz targets reach the database with any text in
// every kind of field instead of stopping at the JSON decoder.
var fieldEvents = []string{
	`{"type":"customer.upserted","data":{"external_id":"fz-c","name":%s,"address":"1 Elm St","lat":45.47,"lon":-122.65}}`,
	`{"type":"customer.upserted","data":{"external_id":"fz-c","name":"Cy","address":%s}}`,
	`{"type":"customer.upserted","data":{"external_id":"fz-c","name":"Cy","email":%s}}`,
	`{"type":"customer.upserted","data":{"external_id":"fz-c","name":"Cy","phone":%s}}`,
	`{"type":"customer.upserted","data":{"external_id":%s,"name":"Cy"}}`,
	`{"type":"crew.upserted","data":{"external_id":"fz-crew","name":%s,"depot_lat":45.4,"depot_lon":-122.7,"members":[]}}`,
	`{"type":"crew.upserted","data":{"external_id":"fz-crew","name":"East","depot_lat":45.4,"depot_lon":-122.7,"members":[{"external_id":"fz-m","name":%s}]}}`,
	`{"type":"crew.upserted","data":{"external_id":"fz-crew","name":"East","depot_lat":45.4,"depot_lon":-122.7,"members":[{"external_id":%s,"name":"Mo"}]}}`,
	`{"type":"visit.upserted","data":{"external_id":%s,"customer_id":"angie","crew_id":"north","service_date":"2026-05-05","price_cents":100}}`,
	`{"type":"visit.upserted","data":{"external_id":"fz-v","customer_id":%s,"service_date":"2026-05-05","price_cents":100}}`,
	`{"type":"visit.upserted","data":{"external_id":"fz-v","customer_id":"angie","service_date":%s,"price_cents":100}}`,
	`{"type":"visit.upserted","data":{"external_id":"fz-v","customer_id":"angie","service_date":"2026-05-05","status":%s,"price_cents":100}}`,
	`{"type":"invoice.upserted","data":{"external_id":"fz-i","customer_id":"angie","lines":[{"description":%s,"amount_cents":100}]}}`,
	`{"type":"invoice.upserted","data":{"external_id":%s,"customer_id":"angie","lines":[]}}`,
}

// rawJSONString quotes s as a JSON string, escaping only what JSON must
// (quote, backslash, control characters) and keeping every other byte as
// it is, invalid UTF-8 included.
func rawJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzReceiveFields puts any text into each text field of a valid event
// on SQLite: it is applied with clean text or refused with a 4xx.
func FuzzReceiveFields(f *testing.F) { fuzzReceiveFields(f, store.SQLite) }

// FuzzReceiveFieldsPostgres is FuzzReceiveFields on PostgreSQL.
func FuzzReceiveFieldsPostgres(f *testing.F) { fuzzReceiveFields(f, store.Postgres) }

func fuzzReceiveFields(f *testing.F, dialect string) {
	for i := range fieldEvents {
		for _, v := range []string{"Cy Young", "Cy\x00Young", "\x00", "Cy \xff\xfe", "\xc3\x28", "\xed\xa0\x80", "Cy\x1b[31m", "Cy\x7f", "Cy\u0085",
			"line\nbreak\ttab", strings.Repeat("€", 501), "", " ", "2026-05-05", "9999-12-31", "completed", "a/b", "%2F"} {
			f.Add(uint8(i), v)
		}
	}
	fx := newFixture(f, storetest.Open(f, dialect))
	fx.seed()
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		body := []byte(fmt.Sprintf(fieldEvents[int(which)%len(fieldEvents)], rawJSONString(value)))
		fx.receiveAny(t, "fuzz-field-"+strconv.FormatInt(n.Add(1), 10), body)
	})
}
