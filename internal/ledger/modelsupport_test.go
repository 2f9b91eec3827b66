package ledger_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/routeloop/routeloop/internal/webhook"
)

// Flags and settings of the model test (see model_test.go for how to run it).
var (
	flagSeed = flag.Uint64("seed", 0, "model test: replay only the sequence with this seed (also ROUTELOOP_MODEL_SEED)")
	flagLong = flag.Bool("long", false, "model test: run 100,000 sequences (50,000 per database)")
)

func envInt(name string, def int) int {
	if s := os.Getenv(name); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return n
		}
	}
	return def
}

// replaySeed is the one seed to replay, or 0.
func replaySeed() uint64 {
	if *flagSeed != 0 {
		return *flagSeed
	}
	if s := os.Getenv("ROUTELOOP_MODEL_SEED"); s != "" {
		n, _ := strconv.ParseUint(s, 10, 64)
		return n
	}
	return 0
}

// legacy is set to run against the code before the ledger rewrite: no
// ledger read-back (404 is skipped), fixed-credit rewards only.
func legacy() bool { return os.Getenv("ROUTELOOP_MODEL_LEGACY") == "1" }

// answer is one HTTP answer.
type answer struct {
	status int
	raw    []byte
	replay string // the Routeloop-Replay header of a webhook's answer
}

func (a answer) decode(v any) error { return json.Unmarshal(a.raw, v) }

func (a answer) ok() bool { return a.status >= 200 && a.status < 300 }

// client sends requests to an in-process routeloop as a tenant's admin.
type client struct {
	mu  sync.RWMutex
	h   http.Handler
	key string
}

func (c *client) handler() http.Handler {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.h
}

func (c *client) setHandler(h http.Handler) {
	c.mu.Lock()
	c.h = h
	c.mu.Unlock()
}

func (c *client) do(method, path string, body any) answer {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			panic(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	rec := httptest.NewRecorder()
	c.handler().ServeHTTP(rec, req)
	return answer{status: rec.Code, raw: rec.Body.Bytes()}
}

// hook delivers body to the tenant's inbound webhook as the scheduler does,
// signed with secret at now.
func (c *client) hook(tenantID, secret, id string, now time.Time, body []byte) answer {
	sig, err := webhook.Sign(secret, id, now, body)
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest("POST", "/hooks/v1/"+tenantID, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderID, id)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, sig)
	rec := httptest.NewRecorder()
	c.handler().ServeHTTP(rec, req)
	return answer{status: rec.Code, raw: rec.Body.Bytes(), replay: rec.Header().Get("Routeloop-Replay")}
}

// The API's shapes, as far as the model reads them.
type apiLine struct {
	Kind        string `json:"kind"`
	VisitID     string `json:"visit_id"`
	Description string `json:"description"`
	AmountCents int64  `json:"amount_cents"`
	Reason      string `json:"reason"`
}

type apiInvoice struct {
	ExternalID    string    `json:"external_id"`
	CustomerID    string    `json:"customer_id"`
	Status        string    `json:"status"`
	Lines         []apiLine `json:"lines"`
	SubtotalCents int64     `json:"subtotal_cents"`
	DiscountCents int64     `json:"discount_cents"`
	TotalCents    int64     `json:"total_cents"`
}

// frozenView is what must never change on an invoice once it is issued.
func (inv apiInvoice) frozenView() string {
	b, _ := json.Marshal(struct {
		Lines                     []apiLine
		Subtotal, Discount, Total int64
	}{inv.Lines, inv.SubtotalCents, inv.DiscountCents, inv.TotalCents})
	return string(b)
}

type apiGiven struct {
	InvoiceID     string `json:"invoice_id"`
	InvoiceStatus string `json:"invoice_status"`
	AmountCents   int64  `json:"amount_cents"`
}

type apiItem struct {
	Kind              string     `json:"kind"`
	VisitID           string     `json:"visit_id"`
	InvoiceID         string     `json:"invoice_id"`
	RewardID          int64      `json:"reward_id"`
	OwedCents         int64      `json:"owed_cents"`
	GivenCents        int64      `json:"given_cents"`
	PendingCents      int64      `json:"pending_cents"`
	GivenInErrorCents int64      `json:"given_in_error_cents"`
	Status            string     `json:"status"`
	Reason            string     `json:"reason"`
	GivenOn           []apiGiven `json:"given_on"`
}

func (it apiItem) key() itemKey {
	if it.Kind == "reward" {
		return itemKey{reward: it.RewardID}
	}
	return itemKey{visit: it.VisitID, invoice: it.InvoiceID}
}

type apiLedger struct {
	CustomerID        string    `json:"customer_id"`
	OwedCents         int64     `json:"owed_cents"`
	GivenCents        int64     `json:"given_cents"`
	PendingCents      int64     `json:"pending_cents"`
	GivenInErrorCents int64     `json:"given_in_error_cents"`
	Items             []apiItem `json:"items"`
}

type apiLink struct {
	ID        int64   `json:"id"`
	CustomerA string  `json:"customer_a"`
	CustomerB string  `json:"customer_b"`
	DistanceM int     `json:"distance_m"`
	StartsOn  string  `json:"starts_on"`
	EndsOn    *string `json:"ends_on"`
}

type apiVisit struct {
	ExternalID  string  `json:"external_id"`
	CustomerID  string  `json:"customer_id"`
	CrewID      *string `json:"crew_id"`
	ServiceDate string  `json:"service_date"`
	Status      string  `json:"status"`
	PriceCents  int64   `json:"price_cents"`
}

type apiCustomer struct {
	ExternalID     string   `json:"external_id"`
	Address        string   `json:"address"`
	Lat            *float64 `json:"lat"`
	Lon            *float64 `json:"lon"`
	ConsentSameDay bool     `json:"consent_same_day"`
}

type apiReferral struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

type apiReward struct {
	ID         int64  `json:"id"`
	ReferralID int64  `json:"referral_id"`
	Role       string `json:"role"`
	Kind       string `json:"kind"`
	ValueCents int64  `json:"value_cents"`
	Status     string `json:"status"`
	Customer   string `json:"customer_id"`
}

// observed is what routeloop shows of a tenant's money.
type observed struct {
	invoices map[string]apiInvoice
	ledgers  map[string]apiLedger // by customer; nil when the ledger is not served (legacy)
	links    map[int64]apiLink
	raw      string // everything above, canonical, without timestamps
}

// withoutTimes drops "*_at" keys so that "nothing changed" compares what
// matters.
func withoutTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasSuffix(k, "_at") {
				delete(x, k)
				continue
			}
			x[k] = withoutTimes(e)
		}
	case []any:
		for i := range x {
			x[i] = withoutTimes(x[i])
		}
	}
	return v
}

// compact is raw JSON without the spaces between its tokens.
func compact(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

func canonical(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	b, _ := json.Marshal(withoutTimes(v))
	return string(b)
}

// listAll reads every page of a list endpoint.
func listAll[T any](c *client, path, name string, fail func(string, ...any)) []T {
	var out []T
	cursor := ""
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for {
		p := path + sep + "limit=500"
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		a := c.do("GET", p, nil)
		if a.status != 200 {
			fail("GET %s: %d %s", p, a.status, a.raw)
			return nil
		}
		var page map[string]json.RawMessage
		if err := a.decode(&page); err != nil {
			fail("GET %s: %v", p, err)
			return nil
		}
		var items []T
		if err := json.Unmarshal(page[name], &items); err != nil {
			fail("GET %s: %v", p, err)
			return nil
		}
		out = append(out, items...)
		var next string
		_ = json.Unmarshal(page["next_cursor"], &next)
		if next == "" || len(items) == 0 {
			return out
		}
		cursor = next
	}
}

// observe reads the tenant's invoices, the ledger of every customer and the
// links.
func observe(c *client, customers []string, withLedger bool, fail func(string, ...any)) *observed {
	ob := &observed{invoices: map[string]apiInvoice{}, links: map[int64]apiLink{}}
	var raw strings.Builder
	invs := listAll[json.RawMessage](c, "/api/v1/invoices", "invoices", fail)
	for _, r := range invs {
		var inv apiInvoice
		if err := json.Unmarshal(r, &inv); err != nil {
			fail("decode invoice: %v", err)
		}
		ob.invoices[inv.ExternalID] = inv
		raw.WriteString(canonical(r) + "\n")
		// GET /invoices/{id} answers as the list does (on PostgreSQL from
		// what it remembers, when the invoice did not change since).
		p := "/api/v1/invoices/" + url.PathEscape(inv.ExternalID)
		if a := c.do("GET", p, nil); a.status != 200 || compact(a.raw) != compact(r) {
			fail("GET %s answers %d %s, the list %s", p, a.status, short(a.raw), short(r))
		}
	}
	if withLedger {
		ob.ledgers = map[string]apiLedger{}
		for _, cu := range customers {
			p := "/api/v1/customers/" + cu + "/ledger"
			a := c.do("GET", p, nil)
			if a.status != 200 {
				fail("GET %s: %d %s", p, a.status, a.raw)
				continue
			}
			var lg apiLedger
			if err := a.decode(&lg); err != nil {
				fail("GET %s: %v", p, err)
			}
			ob.ledgers[cu] = lg
			raw.WriteString(canonical(a.raw) + "\n")
		}
	}
	for _, r := range listAll[json.RawMessage](c, "/api/v1/neighbor-links", "neighbor_links", fail) {
		var l apiLink
		if err := json.Unmarshal(r, &l); err != nil {
			fail("decode link: %v", err)
		}
		ob.links[l.ID] = l
		raw.WriteString(canonical(r) + "\n")
	}
	ob.raw = raw.String()
	return ob
}

// lineKey is how computed lines are matched: kind, the visit for lines
// that discount a visit line, and the amount.
type lineKey struct {
	kind   string
	visit  string
	amount int64
}

func keyOfAPI(l apiLine) lineKey {
	k := lineKey{kind: l.Kind, amount: l.AmountCents}
	if l.Kind == kSync || l.Kind == kReward {
		k.visit = l.VisitID
	}
	return k
}

func keyOfX(l xLine) lineKey {
	k := lineKey{kind: l.kind, amount: l.amount}
	if l.kind == kSync || l.kind == kReward {
		k.visit = l.visit
	}
	return k
}

func sortKeys(ks []lineKey) {
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.visit != b.visit {
			return a.visit < b.visit
		}
		return a.amount < b.amount
	})
}

func fmtKeys(ks []lineKey) string {
	var parts []string
	for _, k := range ks {
		s := fmt.Sprintf("%s %d", k.kind, k.amount)
		if k.visit != "" {
			s += " " + k.visit
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// splitLines separates the scheduler's lines from computed ones.
func splitLines(inv apiInvoice) (sched, computed []apiLine) {
	for _, l := range inv.Lines {
		if l.Kind == kService {
			sched = append(sched, l)
		} else {
			computed = append(computed, l)
		}
	}
	return sched, computed
}

// compareInvoice lists how a stored invoice differs from the oracle's.
func compareInvoice(x *xInvoice, got apiInvoice) []string {
	var diffs []string
	id := x.inv.id
	bad := func(f string, args ...any) { diffs = append(diffs, id+": "+fmt.Sprintf(f, args...)) }
	if got.Status != x.inv.status {
		bad("status %s, oracle %s", got.Status, x.inv.status)
	}
	if got.CustomerID != x.inv.customer {
		bad("customer %s, oracle %s", got.CustomerID, x.inv.customer)
	}
	sched, computed := splitLines(got)
	if len(sched) != len(x.inv.lines) {
		bad("%d scheduler lines, oracle %d", len(sched), len(x.inv.lines))
	} else {
		for i, l := range sched {
			w := x.inv.lines[i]
			if l.VisitID != w.visit || l.AmountCents != w.amount || l.Description != w.desc {
				bad("line %d is %s %q %d, oracle %s %q %d", i+1, l.VisitID, l.Description, l.AmountCents, w.visit, w.desc, w.amount)
			}
		}
	}
	var want, have []lineKey
	for _, l := range x.lines {
		want = append(want, keyOfX(l))
	}
	for _, l := range computed {
		have = append(have, keyOfAPI(l))
	}
	sortKeys(want)
	sortKeys(have)
	if fmtKeys(want) != fmtKeys(have) {
		var stored []string
		for _, l := range computed {
			stored = append(stored, fmt.Sprintf("%s %d %s %q (%s)", l.Kind, l.AmountCents, l.VisitID, l.Description, l.Reason))
		}
		bad("computed lines %s, oracle %s\n      stored: %s", fmtKeys(have), fmtKeys(want), strings.Join(stored, "; "))
	}
	if got.SubtotalCents != x.subtotal || got.DiscountCents != x.discount || got.TotalCents != x.total {
		bad("totals %d − %d = %d, oracle %d − %d = %d", got.SubtotalCents, got.DiscountCents, got.TotalCents, x.subtotal, x.discount, x.total)
	}
	if len(diffs) == 0 {
		diffs = append(diffs, checkReasons(id, x.lines, computed)...)
	}
	return diffs
}

// checkReasons: every computed line names its reason — a sync line the
// neighbour's street and the day, a late credit the invoice (and visit) it
// corrects, a reward line the referral, a free add-on its name.
func checkReasons(id string, want []xLine, have []apiLine) []string {
	var diffs []string
	used := make([]bool, len(have))
	for _, w := range want {
		found := false
		for i, h := range have {
			if used[i] || keyOfAPI(h) != keyOfX(w) {
				continue
			}
			text := h.Description + " " + h.Reason
			ok := strings.TrimSpace(h.Reason) != ""
			switch {
			case w.kind == kSync:
				ok = ok && strings.Contains(h.Reason, w.date) && containsAny(h.Reason, w.streets)
			case w.corrects != "":
				ok = ok && strings.Contains(text, w.corrects) && (h.VisitID == w.visit || strings.Contains(text, w.visit))
			case w.kind == kAddon:
				ok = ok && strings.Contains(strings.ToLower(text), strings.ToLower(w.addon))
				fallthrough
			default:
				ok = ok && strings.Contains(text, strconv.FormatInt(w.referral, 10))
			}
			if ok {
				used[i], found = true, true
				break
			}
		}
		if !found {
			diffs = append(diffs, fmt.Sprintf("%s: no line %s names its reason (%s)", id, w, reasonWanted(w)))
		}
	}
	return diffs
}

func reasonWanted(w xLine) string {
	switch {
	case w.kind == kSync:
		return fmt.Sprintf("the day %s and one of the streets %q", w.date, w.streets)
	case w.corrects != "":
		return fmt.Sprintf("invoice %s and visit %s", w.corrects, w.visit)
	}
	return fmt.Sprintf("referral %d", w.referral)
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// compareLedger lists how a ledger read-back differs from the oracle's.
func compareLedger(x *xLedger, got apiLedger) []string {
	var diffs []string
	bad := func(f string, args ...any) { diffs = append(diffs, x.customer+" ledger: "+fmt.Sprintf(f, args...)) }
	if got.OwedCents != x.owed || got.GivenCents != x.given || got.PendingCents != x.pending || got.GivenInErrorCents != x.inError {
		bad("owed/given/pending/in error %d/%d/%d/%d, oracle %d/%d/%d/%d", got.OwedCents, got.GivenCents, got.PendingCents,
			got.GivenInErrorCents, x.owed, x.given, x.pending, x.inError)
	}
	seen := map[itemKey]bool{}
	for _, it := range got.Items {
		k := it.key()
		if seen[k] {
			bad("item %s listed twice", k)
		}
		seen[k] = true
		w, ok := x.items[k]
		if !ok {
			bad("item %s (owed %d, given %d) is not one the oracle lists", k, it.OwedCents, it.GivenCents)
			continue
		}
		if it.OwedCents != w.owed || it.GivenCents != w.given || it.PendingCents != w.pending || it.GivenInErrorCents != w.inError {
			bad("item %s owed/given/pending/in error %d/%d/%d/%d, oracle %d/%d/%d/%d", k, it.OwedCents, it.GivenCents,
				it.PendingCents, it.GivenInErrorCents, w.owed, w.given, w.pending, w.inError)
		}
		if it.Status != w.status {
			bad("item %s status %s, oracle %s", k, it.Status, w.status)
		}
		if strings.TrimSpace(it.Reason) == "" {
			bad("item %s has no reason", k)
		}
		on := map[string]int64{}
		st := map[string]string{}
		for _, g := range it.GivenOn {
			on[g.InvoiceID] += g.AmountCents
			st[g.InvoiceID] = g.InvoiceStatus
		}
		if fmt.Sprint(sortedMap(on)) != fmt.Sprint(sortedMap(w.givenOn)) || fmt.Sprint(sortedMap(st)) != fmt.Sprint(sortedMap(w.statusOn)) {
			bad("item %s given on %v %v, oracle %v %v", k, sortedMap(on), sortedMap(st), sortedMap(w.givenOn), sortedMap(w.statusOn))
		}
	}
	for k, w := range x.items {
		if !seen[k] {
			bad("item %s (owed %d, given %d, pending %d) is missing", k, w.owed, w.given, w.pending)
		}
	}
	return diffs
}

func sortedMap[V any](m map[string]V) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s:%v", k, v))
	}
	sort.Strings(out)
	return out
}

// invariants are the README's rules checked on what routeloop shows, on
// their own (maxOf gives an invoice's per-line cap).
func invariants(ob *observed, maxOf func(string) int, rewardValue func(int64) (value int64, addon, ok bool)) []string {
	var diffs []string
	bad := func(f string, args ...any) { diffs = append(diffs, fmt.Sprintf(f, args...)) }
	// Late credits and other give-backs for (invoice, visit), from the ledger.
	credited := map[itemKey]int64{}
	for cu, lg := range ob.ledgers {
		var owed, given, pending, inError int64
		for _, it := range lg.Items {
			owed += it.OwedCents
			given += it.GivenCents
			pending += it.PendingCents
			inError += it.GivenInErrorCents
			var frozen, sum int64
			for _, g := range it.GivenOn {
				sum += g.AmountCents
				if settled(g.InvoiceStatus) {
					frozen += g.AmountCents
				}
				if it.Kind != "reward" && g.InvoiceID != it.InvoiceID {
					credited[it.key()] += g.AmountCents
				}
			}
			if sum != it.GivenCents {
				bad("%s ledger item %s: given %d but given_on sums to %d", cu, it.key(), it.GivenCents, sum)
			}
			if it.PendingCents < 0 || it.GivenCents < 0 || it.GivenInErrorCents < 0 {
				bad("%s ledger item %s: negative amounts %+v", cu, it.key(), it)
			}
			switch it.Kind {
			case "reward":
				if it.GivenCents+it.PendingCents != it.OwedCents || it.GivenCents > it.OwedCents {
					bad("%s reward %d: given %d + pending %d ≠ value %d", cu, it.RewardID, it.GivenCents, it.PendingCents, it.OwedCents)
				}
				if v, _, ok := rewardValue(it.RewardID); ok && v != it.OwedCents {
					bad("%s reward %d owes %d, its value is %d", cu, it.RewardID, it.OwedCents, v)
				}
			default:
				okSum := it.GivenCents+it.PendingCents == it.OwedCents && it.GivenInErrorCents == 0
				okErr := it.GivenCents == frozen && frozen > it.OwedCents && it.GivenInErrorCents == frozen-it.OwedCents && it.PendingCents == 0
				if !okSum && !okErr {
					bad("%s sync item %s: owed %d, given %d (frozen %d), pending %d, in error %d break given + pending = owed",
						cu, it.key(), it.OwedCents, it.GivenCents, frozen, it.PendingCents, it.GivenInErrorCents)
				}
			}
		}
		if owed != lg.OwedCents || given != lg.GivenCents || pending != lg.PendingCents || inError != lg.GivenInErrorCents {
			bad("%s ledger totals %d/%d/%d/%d are not the sums of its items %d/%d/%d/%d", cu, lg.OwedCents, lg.GivenCents,
				lg.PendingCents, lg.GivenInErrorCents, owed, given, pending, inError)
		}
	}
	for id, inv := range ob.invoices {
		var sub, disc, sum int64
		for _, l := range inv.Lines {
			sum += l.AmountCents
			switch l.Kind {
			case kService, kAddon:
				sub += l.AmountCents
				if l.AmountCents < 0 {
					bad("%s: a charged line below zero %+v", id, l)
				}
			default:
				disc -= l.AmountCents
				if l.AmountCents > 0 {
					bad("%s: a give-back line above zero %+v", id, l)
				}
				if strings.TrimSpace(l.Reason) == "" {
					bad("%s: computed line without a reason %+v", id, l)
				}
			}
		}
		if inv.TotalCents < 0 || inv.SubtotalCents != sub || inv.DiscountCents != disc || inv.TotalCents != sub-disc || sum != inv.TotalCents {
			bad("%s: totals %d − %d = %d do not add up (lines: charged %d, given back %d)", id, inv.SubtotalCents, inv.DiscountCents, inv.TotalCents, sub, disc)
		}
		if inv.Status == stVoid {
			continue
		}
		mx := maxOf(id)
		for _, l := range inv.Lines {
			if l.Kind != kService || l.VisitID == "" {
				continue
			}
			var on int64
			for _, m := range inv.Lines {
				if (m.Kind == kSync || m.Kind == kReward) && m.VisitID == l.VisitID {
					on -= m.AmountCents
				}
			}
			on += credited[itemKey{visit: l.VisitID, invoice: id}]
			if c := roundBps(l.AmountCents, mx); on > c {
				bad("%s: visit %s line of %d gets %d, over its cap %d (%d bps)", id, l.VisitID, l.AmountCents, on, c, mx)
			}
		}
	}
	return diffs
}
