package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// reviewCard is the queue's article of one referral.
func reviewCard(t *testing.T, body string, id int64) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<article class="review" id="referral-` + itoa(id) + `".*?</article>`).FindString(body)
	if m == "" {
		t.Fatalf("referral %d is not in the queue:\n%s", id, body)
	}
	return m
}

var tagText = regexp.MustCompile(`(?s)<[^>]*>`)

// Dot names "Sam Ortiz" as who sent her; two customers have that name.
// The dispatcher opens the review queue, sees both by name and street,
// attributes Dot to the Sam on Oak Ave, sees it in the history, and
// approves. The page names people, never the scheduler's ids.
func TestTheReviewQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		flagged, other := adminFixture(t, x)
		ctx := context.Background()
		tid := x.green.ID
		for _, c := range []struct{ id, address string }{{"cust-1042", "14 SE Maple St, Portland"}, {"cust-1290", "9 NE Oak Ave, Portland"}} {
			if _, _, err := x.a.Mirror.PutCustomer(ctx, tid, c.id, mirror.CustomerInput{Name: "Sam Ortiz", Address: c.address}); err != nil {
				t.Fatal(err)
			}
		}
		dot, _, err := x.a.Referrals.Create(ctx, tid, "test", referral.Input{Channel: referral.ChannelNameOnly, ReferrerName: "Sam Ortiz",
			ReferrerStreet: "a street she did not remember", Referee: referral.RefereeInput{Name: "Dot Lee", Phone: "503 555 0112"}})
		if err != nil || dot.Status != referral.StatusPendingReview || len(dot.Candidates) != 2 {
			t.Fatalf("Dot's referral %+v (%v)", dot, err)
		}
		// Ben was a customer before Angie named him: flagged with his id in
		// the stored reason.
		if _, _, err := x.a.Mirror.PutCustomer(ctx, tid, "cust-2001", mirror.CustomerInput{Name: "Ben Ortiz", Phone: "503 555 0177"}); err != nil {
			t.Fatal(err)
		}
		crewA := "crew-a"
		if _, _, err := x.a.Mirror.PutVisit(ctx, tid, x.green.Location(), "v-ben-1", mirror.VisitInput{CustomerID: "cust-2001", CrewID: &crewA,
			ServiceDate: "2026-04-20", Status: mirror.VisitCompleted, PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
		ben, _, err := x.a.Referrals.Create(ctx, tid, "test", referral.Input{Channel: referral.ChannelCode, ReferrerID: "angie",
			Referee: referral.RefereeInput{Name: "Ben", Phone: "503 555 0177"}})
		if err != nil || ben.Status != referral.StatusPendingReview || !strings.Contains(ben.Flags[0].Reason, "cust-2001") {
			t.Fatalf("Ben's referral %+v (%v)", ben, err)
		}

		dck := x.session("dispatcher@greenway.example")
		page := x.get("/review", dck)
		body := page.Body.String()
		if page.Code != http.StatusOK {
			t.Fatalf("a dispatcher opens /review: %d\n%s", page.Code, body)
		}
		for _, want := range []string{"Referrals waiting for review", "self-referral: the friend is the referrer&#39;s own customer record",
			"&lt;script&gt;alert(1)&lt;/script&gt;", `action="/review/referrals/` + itoa(flagged) + `/approve"`,
			`action="/review/referrals/` + itoa(other) + `/reject"`, "Ben Ortiz was already a customer before the referral"} {
			if !strings.Contains(body, want) {
				t.Errorf("the queue lacks %q", want)
			}
		}
		if strings.Contains(body, "<script>") {
			t.Fatal("unescaped name in the queue")
		}
		// What people read names no customer by the scheduler's id.
		if text := tagText.ReplaceAllString(body, " "); strings.Contains(text, "cust-") {
			i := strings.Index(text, "cust-")
			t.Fatalf("the page shows an id: …%s…", text[max(0, i-80):i+20])
		}
		card := reviewCard(t, body, dot.ID)
		attr := regexp.MustCompile(`(?s)<li><span><strong>([^<]*)</strong>, ([^<]*)</span>\s*<form method="post" action="(/review/referrals/\d+/attribute)">(.*?)</form>`).
			FindAllStringSubmatch(card, -1)
		if len(attr) != 2 || attr[0][1] != "Sam Ortiz" || attr[0][2] != "14 SE Maple St" || attr[1][2] != "9 NE Oak Ave" ||
			!strings.Contains(attr[1][4], ">Attribute</button>") {
			t.Fatalf("candidates %q\n%s", attr, card)
		}
		f := url.Values{}
		for _, m := range hiddenField.FindAllStringSubmatch(attr[1][4], -1) {
			f.Set(m[1], m[2])
		}
		if f.Get("referrer_id") != "cust-1290" || f.Get("csrf_token") == "" {
			t.Fatalf("attribute form %v", f)
		}
		if !strings.Contains(card, "<strong>Recorded</strong> by test") {
			t.Fatalf("no history on Dot's card:\n%s", card)
		}

		// Without the token, or as a crew member: refused, nothing decided.
		if rec := x.post(attr[1][3], url.Values{"referrer_id": {"cust-1290"}}, dck); rec.Code != http.StatusForbidden {
			t.Fatalf("no token: %d", rec.Code)
		}
		crew := x.session("marisol@greenway.example")
		if rec := x.get("/review", crew); rec.Code != http.StatusForbidden {
			t.Fatalf("crew opened the queue: %d", rec.Code)
		}
		referrerOf := func(id int64) string {
			var ext []string
			s.DB.Raw(`SELECT c.external_id FROM referrals r JOIN customers c ON c.id = r.referrer_id WHERE r.id = ?`, id).Scan(&ext)
			return strings.Join(ext, "")
		}
		if referrerOf(dot.ID) != "" {
			t.Fatal("attributed without a token")
		}

		// The dispatcher attributes Dot to the Sam on Oak Ave.
		rec := x.post(attr[1][3], f, dck)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/review?done=attributed#referral-"+itoa(dot.ID) {
			t.Fatalf("attribute: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		if referrerOf(dot.ID) != "cust-1290" {
			t.Fatalf("Dot's referrer is %q", referrerOf(dot.ID))
		}
		body = x.get("/review?done=attributed", dck).Body.String()
		card = reviewCard(t, body, dot.ID)
		if !strings.Contains(body, "Referrer set.") || !strings.Contains(card, "referred by Sam Ortiz") ||
			!strings.Contains(card, "<strong>Referrer set</strong> by dispatcher@greenway.example (dispatcher): referrer set to Sam Ortiz. picked on the review page") ||
			strings.Contains(card, ">Attribute</button>") || strings.Contains(tagText.ReplaceAllString(card, " "), "cust-") {
			t.Fatalf("Dot after attributing:\n%s", card)
		}
		// Attributing again: said in words, not a crash.
		if again := x.post(attr[0][3], url.Values{"csrf_token": {f.Get("csrf_token")}, "referrer_id": {"cust-1042"}}, dck); again.Code != http.StatusConflict ||
			!strings.Contains(again.Body.String(), "This referral already has its referrer.") {
			t.Fatalf("attribute twice: %d", again.Code)
		}

		// Rejecting needs a reason; then the dispatcher approves Dot.
		tok := f.Get("csrf_token")
		if rec := x.post("/review/referrals/"+itoa(other)+"/reject", url.Values{"csrf_token": {tok}, "reason": {"  "}}, dck); rec.Code != 422 ||
			!strings.Contains(reviewCard(t, rec.Body.String(), other), "Say why you reject this referral.") {
			t.Fatalf("reject without reason: %d", rec.Code)
		}
		if rec := x.post("/review/referrals/"+itoa(dot.ID)+"/approve", url.Values{"csrf_token": {tok}, "reason": {"Dot confirmed by phone"}}, dck); rec.Code != http.StatusSeeOther {
			t.Fatalf("approve: %d\n%s", rec.Code, rec.Body.String())
		}
		var st string
		s.DB.Raw(`SELECT status FROM referrals WHERE id = ?`, dot.ID).Scan(&st)
		if st != referral.StatusPending {
			t.Fatalf("Dot's referral is %s", st)
		}
		// The one that names the referrer's own record cannot be approved: said.
		if rec := x.post("/review/referrals/"+itoa(other)+"/approve", url.Values{"csrf_token": {tok}}, dck); rec.Code != 422 ||
			!strings.Contains(reviewCard(t, rec.Body.String(), other), "This referral names the referrer as their own friend") {
			t.Fatalf("approve a self-referral: %d", rec.Code)
		}

		// The admin reaches the same queue and rejects.
		ack := x.session("admin@greenway.example")
		atok := formToken(t, x.get("/review", ack))
		if rec := x.post("/review/referrals/"+itoa(other)+"/reject", url.Values{"csrf_token": {atok}, "reason": {"Same household"}}, ack); rec.Code != http.StatusSeeOther {
			t.Fatalf("admin rejects: %d", rec.Code)
		}
		body = x.get("/review?done=rejected", ack).Body.String()
		if !strings.Contains(body, "Referral rejected") || strings.Contains(body, `id="referral-`+itoa(other)+`"`) {
			t.Fatalf("queue after rejecting:\n%s", body)
		}
		var decisions int64
		s.DB.Raw(`SELECT COUNT(*) FROM referral_decisions WHERE actor LIKE 'dispatcher dispatcher@greenway.example%'`).Scan(&decisions)
		if decisions != 2 {
			t.Errorf("%d decisions by the dispatcher, want the attribution and the approval", decisions)
		}
		// An unknown referral: a page that says so.
		if rec := x.post("/review/referrals/999999/approve", url.Values{"csrf_token": {tok}}, dck); rec.Code != http.StatusNotFound ||
			!strings.Contains(rec.Body.String(), "That referral does not exist.") {
			t.Fatalf("unknown referral: %d", rec.Code)
		}
	})
}
