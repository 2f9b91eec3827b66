package referral_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// Angie on Maple St; her friends sign up next door, on the landing form.
func maple(t *testing.T, s *store.Store) *engine {
	e := newEngine(t, s, program.Input{})
	lat, lon := 45.4655, -122.6501
	if _, _, err := e.a.Mirror.PutCustomer(context.Background(), e.tenant, "angie", mirror.CustomerInput{Name: "Angie Baker",
		Address: "14 SE Maple St", Lat: &lat, Lon: &lon, ConsentSameDay: true}); err != nil {
		t.Fatal(err)
	}
	return e
}

// signUp records a friend as the landing form does.
func (e *engine) signUp(name, email string, sameDay, marketing bool) referral.Referral {
	e.t.Helper()
	r, _, err := e.a.Referrals.Create(context.Background(), e.tenant, "landing page", referral.Input{Channel: referral.ChannelSMS,
		ReferrerID: "angie", UTM: referral.UTM{"utm_source": "spring"},
		Referee: referral.RefereeInput{Name: name, Email: email, ConsentSameDay: sameDay, ConsentMarketing: marketing}})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// mirror is the scheduler creating the friend next door, stating in (the
// JSON it sends) and nothing else.
func (e *engine) mirror(id, email, body string) mirror.Customer {
	e.t.Helper()
	var b mirror.CustomerJSON
	if err := apperror.DecodeJSON([]byte(body), &b, ""); err != nil {
		e.t.Fatal(err)
	}
	in := b.Input()
	lat, lon := 45.4662, -122.6499 // about 80 m from Angie
	in.Name, in.Email, in.Address, in.Lat, in.Lon = id, email, "30 SE Maple St", &lat, &lon
	c, _, err := e.a.Mirror.PutCustomer(context.Background(), e.tenant, id, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// firstVisit completes the friend's first visit today (the conversion).
func (e *engine) firstVisit(id string) {
	e.t.Helper()
	if _, _, err := e.a.Mirror.PutVisit(context.Background(), e.tenant, e.loc, "v-"+id, mirror.VisitInput{CustomerID: id,
		ServiceDate: localdate.In(e.clock.Now(), e.loc).String(), Status: mirror.VisitCompleted, PriceCents: 4500}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *engine) links(customer string) []neighbor.Link {
	e.t.Helper()
	ls, _, err := e.a.Neighbors.Links(context.Background(), e.tenant, neighbor.LinkFilter{CustomerID: customer}, store.Page{Limit: 10})
	if err != nil {
		e.t.Fatal(err)
	}
	return ls
}

func TestTheFriendsTicksBecomeTheCustomersConsentsAndABookableNeighbour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := maple(t, s)
		ctx := context.Background()
		r := e.signUp("Ben Ortiz", "ben@example.com", true, true)
		if !r.Referee.ConsentSameDay || !r.Referee.ConsentMarketing || r.Channel != referral.ChannelSMS || r.UTM["utm_source"] != "spring" {
			t.Fatalf("referral %+v", r)
		}
		// The scheduler creates Ben saying nothing about consent: he takes his ticks.
		ben := e.mirror("ben", "ben@example.com", `{}`)
		if !ben.ConsentSameDay || !ben.ConsentMarketing || ben.ConsentMarketingAt == nil || !ben.ConsentMarketingAt.Equal(r.CreatedAt) {
			t.Fatalf("Ben after the mirror: %+v", ben)
		}
		// His first visit converts the referral and links the two neighbours
		// (the program needs both to agree to same-day service).
		e.firstVisit("ben")
		if got, _ := e.a.Referrals.Get(ctx, e.tenant, r.ID); got.Status != referral.StatusConverted || !strings.Contains(got.Note, "neighbours linked") {
			t.Fatalf("referral after the visit: %s %q", got.Status, got.Note)
		}
		if ls := e.links("ben"); len(ls) != 1 || ls[0].EndsOn != nil {
			t.Fatalf("Ben's links %+v", ls)
		}
		// A later write leaving the consents out keeps them.
		if ben = e.mirror("ben", "ben@example.com", `{"consent_same_day": null}`); !ben.ConsentSameDay || !ben.ConsentMarketing {
			t.Fatalf("Ben after a write without consents: %+v", ben)
		}
		// The scheduler's later word wins: Ben withdraws same-day service.
		if ben = e.mirror("ben", "ben@example.com", `{"consent_same_day": false}`); ben.ConsentSameDay {
			t.Fatal("the scheduler's no did not win over the friend's tick")
		}
		if ls := e.links("ben"); len(ls) != 1 || ls[0].EndsOn == nil {
			t.Fatalf("the link did not end with the consent: %+v", ls)
		}
	})
}

func TestADispatcherCanLinkAFriendWhoseConsentCameFromTheForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := maple(t, s)
		e.signUp("Cleo Park", "cleo@example.com", true, false)
		e.mirror("cleo", "cleo@example.com", `{"consent_marketing": false}`)
		l, _, err := e.a.Neighbors.CreateLink(context.Background(), e.tenant, neighbor.LinkInput{CustomerA: "angie", CustomerB: "cleo"})
		if err != nil || l.DistanceM > 100 {
			t.Fatalf("link: %+v %v", l, err)
		}
	})
}

func TestWhatTheSchedulerStatesOnCreationWinsOverTheForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := maple(t, s)
		r := e.signUp("Dot Reyes", "dot@example.com", true, true)
		dot := e.mirror("dot", "dot@example.com", `{"consent_same_day": false, "consent_marketing": false}`)
		if dot.ConsentSameDay || dot.ConsentMarketing {
			t.Fatalf("the form overrode the scheduler: %+v", dot)
		}
		e.firstVisit("dot")
		got, _ := e.a.Referrals.Get(context.Background(), e.tenant, r.ID)
		if got.Status != referral.StatusConverted || !strings.Contains(got.Note, "not linked") || len(e.links("dot")) != 0 {
			t.Fatalf("a friend the scheduler says did not agree was linked: %s %q", got.Status, got.Note)
		}
		// Stating one and leaving out the other: the form fills only the other.
		e.signUp("Gil Moss", "gil@example.com", true, true)
		if gil := e.mirror("gil", "gil@example.com", `{"consent_same_day": false}`); gil.ConsentSameDay || !gil.ConsentMarketing {
			t.Fatalf("Gil %+v", gil)
		}
		e.signUp("Hana Lee", "hana@example.com", true, true)
		if hana := e.mirror("hana", "hana@example.com", `{"consent_marketing": false}`); !hana.ConsentSameDay || hana.ConsentMarketing {
			t.Fatalf("Hana %+v", hana)
		}
		// A friend who ticked nothing takes nothing; one who ticked only
		// marketing gets only that.
		e.signUp("Eve Hart", "eve@example.com", false, false)
		e.signUp("Fay Lin", "fay@example.com", false, true)
		if eve := e.mirror("eve", "eve@example.com", `{}`); eve.ConsentSameDay || eve.ConsentMarketing || eve.ConsentMarketingAt != nil {
			t.Fatalf("Eve %+v", eve)
		}
		if fay := e.mirror("fay", "fay@example.com", `{}`); fay.ConsentSameDay || !fay.ConsentMarketing {
			t.Fatalf("Fay %+v", fay)
		}
	})
}

func TestASecondSignUpAddsTheTicksGivenNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := maple(t, s)
		first := e.signUp("Gus Kim", "gus@example.com", false, false)
		again := e.signUp("Gus Kim", "gus@example.com", true, false)
		third := e.signUp("Gus Kim", "gus@example.com", false, false)
		if again.ID != first.ID || !again.Referee.ConsentSameDay || !third.Referee.ConsentSameDay || third.Referee.ConsentMarketing {
			t.Fatalf("first %+v, again %+v, third %+v", first.Referee, again.Referee, third.Referee)
		}
	})
}

func TestEventsCarryTheConsentsAMessagingToolMustRespect(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := maple(t, s)
		ctx := context.Background()
		e.signUp("Ben Ortiz", "ben@example.com", true, true)
		payloads := func(kind string) []map[string]any {
			var raw []string
			s.DB.Raw(`SELECT payload FROM outbox_events WHERE kind = ? ORDER BY id`, kind).Scan(&raw)
			out := make([]map[string]any, len(raw))
			for i, p := range raw {
				if err := json.Unmarshal([]byte(p), &out[i]); err != nil {
					t.Fatal(err)
				}
			}
			return out
		}
		created := payloads(referral.EventCreated)
		friend, _ := created[0]["friend"].(map[string]any)
		if len(created) != 1 || friend["consent_marketing"] != true || friend["consent_same_day"] != true ||
			created[0]["referrer_consent_marketing"] != false || created[0]["channel"] != "sms" {
			t.Fatalf("referral.created %v", created)
		}
		// Ben becomes a customer, opts out, then converts: the events say no.
		ben := e.mirror("ben", "ben@example.com", `{}`)
		link, _ := e.a.Mirror.OptOutURL(ctx, ben)
		if _, err := e.a.Mirror.StopMarketing(ctx, link[strings.LastIndex(link, "/")+1:]); err != nil {
			t.Fatal(err)
		}
		e.firstVisit("ben")
		converted := payloads(referral.EventConverted)
		friend, _ = converted[0]["friend"].(map[string]any)
		if len(converted) != 1 || friend["consent_marketing"] != false || friend["consent_same_day"] != true {
			t.Fatalf("referral.converted %v", converted)
		}
		granted := payloads(referral.EventRewardGranted)
		for _, w := range granted {
			// Angie never said yes either: false for both.
			if w["consent_marketing"] != false || (w["customer_id"] != "angie" && w["customer_id"] != "ben") {
				t.Fatalf("reward.granted %v", w)
			}
		}
		// Angie says yes; her draft invoice gets her reward, and the invoice
		// events say she may be sent offers.
		yes := true
		if _, _, err := e.a.Mirror.PutCustomer(ctx, e.tenant, "angie", mirror.CustomerInput{Name: "Angie Baker", Address: "14 SE Maple St",
			Lat: &[]float64{45.4655}[0], Lon: &[]float64{-122.6501}[0], ConsentSameDay: true, ConsentMarketing: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.a.Mirror.PutVisit(ctx, e.tenant, e.loc, "v-angie", mirror.VisitInput{CustomerID: "angie",
			ServiceDate: localdate.In(e.clock.Now(), e.loc).AddDays(7).String(), PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
		vid := "v-angie"
		if _, _, err := e.a.Invoices.Put(ctx, e.tenant, "USD", "inv-angie", invoice.Input{CustomerID: "angie",
			Lines: []invoice.LineInput{{VisitID: &vid, Description: "Mow", AmountCents: 4500}}}); err != nil {
			t.Fatal(err)
		}
		discounted := payloads("invoice.discounted")
		if len(discounted) == 0 || discounted[len(discounted)-1]["customer_id"] != "angie" || discounted[len(discounted)-1]["consent_marketing"] != true {
			t.Fatalf("invoice.discounted %v", discounted)
		}
		if _, err := e.a.Invoices.RotateLink(ctx, e.tenant, "inv-angie"); err != nil {
			t.Fatal(err)
		}
		if rotated := payloads(invoice.EventLinkRotated); len(rotated) != 1 || rotated[0]["consent_marketing"] != true {
			t.Fatalf("invoice.link_rotated %v", rotated)
		}
	})
}

func TestEveryChannelIsAcceptedAndAnUnknownOneRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := maple(t, s)
		for i, ch := range referral.Channels {
			if ch == referral.ChannelCrewPitch {
				continue // needs a crew member; the crew tests record those
			}
			in := referral.Input{Channel: ch, ReferrerID: "angie", Referee: referral.RefereeInput{Name: "F", Phone: fmt.Sprintf("+1 503 555 01%02d", 10+i)}}
			if r, _, err := e.a.Referrals.Create(context.Background(), e.tenant, "test", in); err != nil || r.Channel != ch {
				t.Errorf("%s: %+v %v", ch, r, err)
			}
		}
		_, _, err := e.a.Referrals.Create(context.Background(), e.tenant, "test", referral.Input{Channel: "carrier_pigeon", ReferrerID: "angie",
			Referee: referral.RefereeInput{Name: "F", Phone: "+1 503 555 0199"}})
		if ae, ok := apperror.As(err); !ok || !strings.Contains(ae.Fields["channel"], "sms") {
			t.Fatalf("an unknown channel: %v", err)
		}
	})
}

func TestTheLinksChannelAndUTMAreKeptCleanly(t *testing.T) {
	for ch, want := range map[string]string{"sms": "sms", "invoice": "invoice", "crew": "crew", "card": "card", "email": "email",
		"social": "social", "link": "link", "": "link", "SMS": "link", "crew_pitch": "link", "<b>": "link"} {
		if got := referral.LinkChannel(ch); got != want {
			t.Errorf("LinkChannel(%q) = %q, want %q", ch, got, want)
		}
	}
	long := strings.Repeat("é", referral.MaxUTMLen+50)
	q := url.Values{"utm_source": {"  news\u00adletter  "}, "utm_medium": {"e\x1b[31mmail"}, "utm_campaign": {long},
		"utm_term": {""}, "utm_content": {"a", "b"}, "utm_evil": {"x"}, "ch": {"sms"}}
	u := referral.ParseUTM(q)
	if len(u) != 3 || u["utm_source"] != "news\u00adletter" || u["utm_content"] != "a" {
		t.Fatalf("utm %v", u)
	}
	if _, kept := u["utm_medium"]; kept {
		t.Fatal("a value with an escape sequence was kept")
	}
	if got := u["utm_campaign"]; got != long[:len(got)] || len([]rune(got)) != referral.MaxUTMLen {
		t.Fatalf("an overlong value was not cut to %d characters: %d", referral.MaxUTMLen, len([]rune(got)))
	}
	if u.Query() != "utm_campaign="+url.QueryEscape(u["utm_campaign"])+"&utm_content=a&utm_source="+url.QueryEscape("news\u00adletter") {
		t.Fatalf("query %q", u.Query())
	}
}

func TestAReferralStoresOnlyCleanUTM(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := maple(t, s)
		r, _, err := e.a.Referrals.Create(context.Background(), e.tenant, "landing page", referral.Input{Channel: referral.ChannelEmail,
			ReferrerID: "angie", UTM: referral.UTM{"utm_source": strings.Repeat("x", 500), "utm_medium": "bad\x00", "other": "dropped"},
			Referee: referral.RefereeInput{Name: "Hal", Email: "hal@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		s.DB.Raw(`SELECT utm FROM referrals WHERE id = ?`, r.ID).Scan(&stored)
		if stored != `{"utm_source":"`+strings.Repeat("x", referral.MaxUTMLen)+`"}` || len(r.UTM) != 1 {
			t.Fatalf("stored utm %q, answered %v", stored, r.UTM)
		}
		// None at all: '' stored, {} answered.
		r, _, _ = e.a.Referrals.Create(context.Background(), e.tenant, "test", referral.Input{Channel: referral.ChannelCode,
			ReferrerID: "angie", Referee: referral.RefereeInput{Name: "Ivy", Email: "ivy@example.com"}})
		s.DB.Raw(`SELECT utm FROM referrals WHERE id = ?`, r.ID).Scan(&stored)
		if b, _ := json.Marshal(r); stored != "" || !strings.Contains(string(b), `"utm":{}`) {
			t.Fatalf("stored %q, answer %s", stored, b)
		}
	})
}
