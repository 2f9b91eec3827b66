package mirror_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// consentWorld is a wired routeloop on a fixed clock with two companies.
type consentWorld struct {
	t            *testing.T
	a            *app.App
	s            *store.Store
	clock        *clock.Fixed
	green, rival string
}

func newConsentWorld(t *testing.T, s *store.Store) consentWorld {
	t.Helper()
	c := clock.NewFixed(time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC))
	a := app.Wire(config.Defaults(), s, c, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	g, _, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	return consentWorld{t: t, a: a, s: s, clock: c, green: g.ID, rival: r.ID}
}

func (w consentWorld) put(id string, in mirror.CustomerInput) mirror.Customer {
	w.t.Helper()
	if in.Name == "" {
		in.Name = "Angie Baker"
	}
	c, _, err := w.a.Mirror.PutCustomer(context.Background(), w.green, id, in)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// events counts the outbox events of a kind.
func (w consentWorld) events(kind string) int64 {
	return storetest.Count(w.t, w.s.DB.Where("kind = ?", kind), "outbox_events")
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func TestTheSchedulersConsentStatementsAndWhatALeftOutFieldKeeps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newConsentWorld(t, s)
		// A new customer the scheduler says nothing about: no consents, never asked.
		c := w.put("angie", mirror.CustomerInput{SameDayOmitted: true})
		if c.ConsentSameDay || c.ConsentMarketing || c.ConsentMarketingAt != nil {
			t.Fatalf("a new customer without statements: %+v", c)
		}
		// Yes to marketing, as of the scheduler's change time.
		said := time.Date(2026, 4, 30, 9, 0, 0, 0, time.UTC)
		c = w.put("angie", mirror.CustomerInput{ConsentSameDay: true, ConsentMarketing: yes(), UpdatedAt: &said})
		if !c.ConsentSameDay || !c.ConsentMarketing || c.ConsentMarketingAt == nil || !c.ConsentMarketingAt.Equal(said) {
			t.Fatalf("after yes: %+v", c)
		}
		// Left out: both kept (the same-day answer too).
		w.clock.Advance(time.Hour)
		c = w.put("angie", mirror.CustomerInput{Name: "Angie Baker-Lee", SameDayOmitted: true})
		if !c.ConsentSameDay || !c.ConsentMarketing || !c.ConsentMarketingAt.Equal(said) || c.Name != "Angie Baker-Lee" {
			t.Fatalf("a write leaving the consents out changed them: %+v", c)
		}
		// The same answer again keeps when it was given.
		c = w.put("angie", mirror.CustomerInput{ConsentSameDay: true, ConsentMarketing: yes()})
		if !c.ConsentMarketingAt.Equal(said) {
			t.Fatalf("a repeated yes moved consent_marketing_at to %v", c.ConsentMarketingAt)
		}
		// Stated no, without a change time: now.
		c = w.put("angie", mirror.CustomerInput{ConsentSameDay: false, ConsentMarketing: no()})
		if c.ConsentSameDay || c.ConsentMarketing || c.ConsentMarketingAt == nil || !c.ConsentMarketingAt.Equal(w.clock.Now()) {
			t.Fatalf("after no: %+v", c)
		}
		// A Go caller that sets ConsentSameDay (without SameDayOmitted) states it, as before.
		if c = w.put("angie", mirror.CustomerInput{ConsentSameDay: true}); !c.ConsentSameDay {
			t.Fatal("a stated same-day consent was not stored")
		}
		got, err := w.a.Mirror.Customer(context.Background(), w.green, "angie")
		if err != nil || got.ConsentMarketing || !got.ConsentSameDay {
			t.Fatalf("read back: %+v %v", got, err)
		}
	})
}

func TestCustomerJSONTellsAConsentLeftOutFromOneSentFalse(t *testing.T) {
	for body, omitted := range map[string]bool{
		`{"name":"A"}`:                          true,
		`{"name":"A","consent_same_day":null}`:  true,
		`{"name":"A","consent_same_day":false}`: false,
		`{"name":"A","consent_same_day":true}`:  false,
	} {
		var b mirror.CustomerJSON
		if err := apperror.DecodeJSON([]byte(body), &b, ""); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		in := b.Input()
		if in.SameDayOmitted != omitted || in.ConsentSameDay != strings.Contains(body, "true") {
			t.Errorf("%s: omitted %v, consent %v", body, in.SameDayOmitted, in.ConsentSameDay)
		}
	}
	var b mirror.CustomerJSON
	for _, body := range []string{`{"name":"A","consent_same_day":"yes"}`, `{"name":"A","consent_marketing":1}`} {
		err := apperror.DecodeJSON([]byte(body), &b, "")
		if ae, ok := apperror.As(err); !ok || ae.Code != apperror.CodeValidation || len(ae.Fields) != 1 {
			t.Errorf("%s: %v, want a validation error naming the consent", body, err)
		}
	}
}

func TestAnOptOutLinkStopsMarketingOnceAndCannotBeForged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newConsentWorld(t, s)
		ctx := context.Background()
		said := time.Date(2026, 4, 30, 9, 0, 0, 0, time.UTC)
		angie := w.put("angie", mirror.CustomerInput{ConsentMarketing: yes(), UpdatedAt: &said})
		ben := w.put("ben", mirror.CustomerInput{Name: "Ben Ortiz", ConsentMarketing: yes()})
		link, err := w.a.Mirror.OptOutURL(ctx, angie)
		if err != nil {
			t.Fatal(err)
		}
		cfg := config.Defaults()
		base := strings.TrimRight(cfg.PublicURL(), "/")
		token := strings.TrimPrefix(link, base+"/optout/")
		if token == link || len(token) != 32 {
			t.Fatalf("opt-out link %q", link)
		}
		if again, _ := w.a.Mirror.OptOutURL(ctx, angie); again != link {
			t.Fatal("the opt-out link changed")
		}
		benLink, _ := w.a.Mirror.OptOutURL(ctx, ben)
		if benLink == link {
			t.Fatal("two customers share an opt-out link")
		}
		o, err := w.a.Mirror.OptOutByToken(ctx, token)
		if err != nil || o.Company != "Greenway Lawn" || o.CustomerID != "angie" || o.Stopped {
			t.Fatalf("opt-out page: %+v %v", o, err)
		}
		// Forged, cut, altered and foreign tokens are unknown.
		forged := []string{"", "x", token[:31], token + "A", strings.Repeat("A", 32),
			// angie's id with ben's signature
			token[:11] + strings.TrimPrefix(benLink, base+"/optout/")[11:]}
		for _, bad := range forged {
			if _, err := w.a.Mirror.OptOutByToken(ctx, bad); !apperror.HasCode(err, apperror.CodeNotFound) {
				t.Errorf("token %q: %v, want not found", bad, err)
			}
			if _, err := w.a.Mirror.StopMarketing(ctx, bad); !apperror.HasCode(err, apperror.CodeNotFound) {
				t.Errorf("stop with %q: %v, want not found", bad, err)
			}
		}
		if w.events(mirror.EventMarketingOptOut) != 0 {
			t.Fatal("a forged token announced an opt-out")
		}

		w.clock.Advance(time.Hour)
		for i := 0; i < 3; i++ { // pressed three times
			if o, err = w.a.Mirror.StopMarketing(ctx, token); err != nil || !o.Stopped {
				t.Fatalf("stop: %+v %v", o, err)
			}
		}
		c, _ := w.a.Mirror.Customer(ctx, w.green, "angie")
		if c.ConsentMarketing || c.ConsentMarketingAt == nil || !c.ConsentMarketingAt.Equal(w.clock.Now()) {
			t.Fatalf("after the opt-out: %+v", c)
		}
		if n := w.events(mirror.EventMarketingOptOut); n != 1 {
			t.Fatalf("%d opt-out events, want 1", n)
		}
		var payload string
		s.DB.Raw(`SELECT payload FROM outbox_events WHERE kind = ?`, mirror.EventMarketingOptOut).Scan(&payload)
		var ev map[string]any
		if err := json.Unmarshal([]byte(payload), &ev); err != nil || ev["customer_id"] != "angie" || ev["consent_marketing"] != false {
			t.Fatalf("event %s", payload)
		}
		if b, _ := w.a.Mirror.Customer(ctx, w.green, "ben"); !b.ConsentMarketing {
			t.Fatal("angie's opt-out stopped ben's messages")
		}
		// A scheduler write made before the opt-out (a late delivery) does
		// not undo it; one made after it does: the scheduler's later word wins.
		before := said.Add(time.Minute)
		if c = w.put("angie", mirror.CustomerInput{ConsentMarketing: yes(), UpdatedAt: &before}); c.ConsentMarketing {
			t.Fatal("a statement older than the opt-out undid it")
		}
		after := w.clock.Now().Add(time.Minute)
		if c = w.put("angie", mirror.CustomerInput{ConsentMarketing: yes(), UpdatedAt: &after}); !c.ConsentMarketing {
			t.Fatal("the scheduler's later statement did not win")
		}
		// Opting out again after that is a new statement: one more event.
		if _, err := w.a.Mirror.StopMarketing(ctx, token); err != nil {
			t.Fatal(err)
		}
		if n := w.events(mirror.EventMarketingOptOut); n != 2 {
			t.Fatalf("%d opt-out events, want 2", n)
		}
	})
}

func TestReferralLinksNameEveryChannel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newConsentWorld(t, s)
		ctx := context.Background()
		c := w.put("angie", mirror.CustomerInput{})
		l, err := w.a.Mirror.ReferralLinks(ctx, w.green, "angie")
		if err != nil {
			t.Fatal(err)
		}
		if l.Code != c.ReferralCode || l.URL != c.ReferralURL || len(l.Links) != len(refcode.LinkChannels) || l.OptOutURL == "" {
			t.Fatalf("links %+v", l)
		}
		for _, ch := range refcode.LinkChannels {
			if l.Links[ch] != c.ReferralURL+"?ch="+ch {
				t.Errorf("%s link %q", ch, l.Links[ch])
			}
		}
		if _, err := w.a.Mirror.ReferralLinks(ctx, w.rival, "angie"); !apperror.HasCode(err, apperror.CodeNotFound) {
			t.Fatalf("another company's customer: %v", err)
		}
	})
}
