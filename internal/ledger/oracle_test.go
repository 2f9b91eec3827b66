package ledger_test

// The oracle: a deliberately plain, separate reading of the README's money
// rules ("The money ledger: what is owed, what was given, what is pending",
// "Neighbours and same-day discounts", "Referrals"). It keeps its own copy of
// the facts and works out, in loops over them and from scratch every time,
// what every invoice should carry and what every ledger item should say. It
// shares no code with the product: its own rounding, its own "synced" check,
// its own placement. The only things it takes from routeloop are facts that
// are not money: ids the product assigns (links, rewards, referrals) and a
// link's distance in metres.

import (
	"fmt"
	"math"
	"sort"
	"testing"
	"time"
)

// Invoice states, visit states, line kinds and reward kinds, as the API
// spells them.
const (
	stDraft  = "draft"
	stIssued = "issued"
	stPaid   = "paid"
	stVoid   = "void"

	vScheduled = "scheduled"
	vCompleted = "completed"
	vCancelled = "cancelled"

	kService = "service"
	kAddon   = "addon"
	kSync    = "sync_discount"
	kReward  = "referral_reward"
	kCredit  = "credit"

	rwFixed   = "fixed_credit"
	rwPercent = "percent_next_invoice"
	rwPoints  = "points"
	rwAddon   = "free_addon"
)

// day is a tenant-local calendar day, counted from 1970-01-01.
type day int

func dayOf(y int, m time.Month, d int) day {
	return day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func (d day) String() string { return time.Unix(int64(d)*86400, 0).UTC().Format("2006-01-02") }

// roundBps is x·bps/10000 rounded half away from zero (README: "Each x·bps
// is rounded half away from zero").
func roundBps(x int64, bps int) int64 {
	n := x * int64(bps)
	neg := n < 0
	if neg {
		n = -n
	}
	q, r := n/10000, n%10000
	if 2*r >= 10000 {
		q++
	}
	if neg {
		return -q
	}
	return q
}

// metres is the great-circle distance between two points (haversine on the
// WGS84 equatorial radius), rounded to whole metres like a link's distance_m.
func metres(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6378137.0
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Atan2(math.Sqrt(a), math.Sqrt(1-a))
}

// terms are what prices a sync discount: the program's while an invoice is
// a draft, the ones in force when it left draft afterwards.
type terms struct {
	sync, max int
	sameCrew  bool
}

type oRewardSpec struct {
	kind   string
	bps    int
	amount int64
	points int
	addon  string
}

type oOffer struct {
	name              string
	referee, referrer oRewardSpec
}

type oProgram struct {
	terms
	radius         int
	pointValue     int64
	estimatedVisit int64
	offers         []oOffer
}

func (p oProgram) offer(name string) (oOffer, bool) {
	for _, o := range p.offers {
		if o.name == name {
			return o, true
		}
	}
	return oOffer{}, false
}

type oCustomer struct {
	id                 string
	seq                int // creation order (= the product's id order)
	name, email, phone string
	street             string   // the first part of the address
	streets            []string // every street it ever had: a reason may name an older one
	lat, lon           float64
	consent            bool
}

func (c *oCustomer) address() string { return c.street + ", Portland" }

type oLink struct {
	id     int64
	a, b   string
	dist   int // metres, as the API said
	starts day
	ended  bool
	ends   day
}

// activeOn: "A link is active from starts_on until the day before ends_on."
func (l *oLink) activeOn(d day) bool { return d >= l.starts && (!l.ended || d < l.ends) }

func (l *oLink) other(c string) string {
	if l.a == c {
		return l.b
	}
	return l.a
}

type oVisit struct {
	id             string
	seq            int
	customer, crew string
	date           day
	status         string
	price          int64
}

// oLineIn is a line the scheduler sent.
type oLineIn struct {
	visit  string // "" for a line that names no visit
	desc   string
	amount int64
}

type oInvoice struct {
	id               string
	seq              int
	customer, status string
	lines            []oLineIn
	// Set when it leaves draft: the terms then in force and the computed
	// lines it carried (the oracle's own, checked equal to the stored ones).
	leftDraft bool
	issued    bool // it was issued or paid, so its lines are frozen for good
	terms     terms
	frozen    []xLine
}

type oReward struct {
	id       int64
	customer string
	referral int64
	role     string
	kind     string
	bps      int
	value    int64
	addon    string
}

type oReferral struct {
	id                                      int64
	referrer, email, friend, variant, state string // state: pending, converted
	made                                    day    // the day it was recorded
}

// itemKey names a ledger item: a reward, or a (visit, invoice) sync item.
type itemKey struct {
	reward         int64
	visit, invoice string
}

func (k itemKey) String() string {
	if k.reward != 0 {
		return fmt.Sprintf("reward %d", k.reward)
	}
	return fmt.Sprintf("sync %s on %s", k.visit, k.invoice)
}

// xLine is a computed line the oracle expects.
type xLine struct {
	kind   string
	visit  string // the billed visit it discounts (sync and percent reward lines); the visit a late credit corrects
	amount int64  // negative for what is given back, 0 for a free add-on
	item   itemKey
	// What its reason must name.
	streets  []string // sync: a qualifying neighbour's street …
	date     string   // … and the day
	corrects string   // late credit: the invoice it corrects
	referral int64    // reward lines: the referral
	addon    string   // free add-on: its name
	value    int64    // free add-on: its worth (what the ledger counts as given)
}

// worth is what a line gives: minus its amount, or a free add-on's value.
func (l xLine) worth() int64 {
	if l.kind == kAddon {
		return l.value
	}
	return -l.amount
}

func (l xLine) String() string {
	s := fmt.Sprintf("%s %d", l.kind, l.amount)
	if l.visit != "" {
		s += " visit " + l.visit
	}
	return s + " (" + l.item.String() + ")"
}

type oracle struct {
	today     day
	prog      oProgram
	customers []*oCustomer
	links     []*oLink
	visits    []*oVisit
	invoices  []*oInvoice
	rewards   []*oReward
	referrals []*oReferral
}

func (o *oracle) customer(id string) *oCustomer {
	for _, c := range o.customers {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (o *oracle) visit(id string) *oVisit {
	for _, v := range o.visits {
		if v.id == id {
			return v
		}
	}
	return nil
}

func (o *oracle) invoice(id string) *oInvoice {
	for _, inv := range o.invoices {
		if inv.id == id {
			return inv
		}
	}
	return nil
}

func (o *oracle) link(id int64) *oLink {
	for _, l := range o.links {
		if l.id == id {
			return l
		}
	}
	return nil
}

func (o *oracle) openLink(a, b string) *oLink {
	for _, l := range o.links {
		if !l.ended && ((l.a == a && l.b == b) || (l.a == b && l.b == a)) {
			return l
		}
	}
	return nil
}

// distance is the oracle's own distance between two customers in metres.
func (o *oracle) distance(a, b *oCustomer) float64 { return metres(a.lat, a.lon, b.lat, b.lon) }

// eligible says whether two customers may be linked now: both agreed to
// same-day service and they live within the program radius.
func (o *oracle) eligible(a, b *oCustomer) bool {
	return a.id != b.id && a.consent && b.consent && math.Round(o.distance(a, b)) <= float64(o.prog.radius)
}

// endLink ends an open link today (never before its first day).
func (o *oracle) endLink(l *oLink) {
	if l.ended {
		return
	}
	l.ended, l.ends = true, o.today
	if l.ends < l.starts {
		l.ends = l.starts
	}
}

// customerChanged applies the README's consequences of a customer write:
// withdrawing consent ends the customer's open links today; moving beyond
// the radius ends those links; a move within it keeps them (the distance
// is re-read from the API by the caller).
func (o *oracle) customerChanged(c *oCustomer) {
	for _, l := range o.links {
		if l.ended || (l.a != c.id && l.b != c.id) {
			continue
		}
		other := o.customer(l.other(c.id))
		if !c.consent || !other.consent || math.Round(o.distance(c, other)) > float64(o.prog.radius) {
			o.endLink(l)
		}
	}
}

// programChanged: a smaller radius ends the open links beyond it today.
func (o *oracle) radiusChanged(old int) {
	if o.prog.radius >= old {
		return
	}
	for _, l := range o.links {
		if !l.ended && l.dist > o.prog.radius {
			o.endLink(l)
		}
	}
}

// syncedWith returns the streets (every street they ever had) of the
// linked neighbours that make visit v synced: a link active on v's day, a
// visit of the neighbour that same day, neither cancelled, the same crew
// when the terms ask for it. Empty: not synced.
func (o *oracle) syncedWith(v *oVisit, sameCrew bool) []string {
	if v.status == vCancelled {
		return nil
	}
	var streets []string
	for _, l := range o.links {
		if (l.a != v.customer && l.b != v.customer) || !l.activeOn(v.date) {
			continue
		}
		other := l.other(v.customer)
		for _, w := range o.visits {
			if w.customer != other || w.date != v.date || w.status == vCancelled {
				continue
			}
			if sameCrew && (v.crew == "" || w.crew == "" || v.crew != w.crew) {
				continue
			}
			streets = append(streets, o.customer(other).streets...)
			break
		}
	}
	return streets
}

// billed is b: what the invoice charges for the visit (its lines naming it).
func billed(inv *oInvoice, visit string) int64 {
	var b int64
	for _, l := range inv.lines {
		if l.visit == visit {
			b += l.amount
		}
	}
	return b
}

// owedSync is what the sync item (visit, invoice) owes under terms t, and
// the neighbours' streets that explain it.
func (o *oracle) owedSync(inv *oInvoice, visit string, t terms) (int64, []string) {
	if inv.status == stVoid || t.sync == 0 {
		return 0, nil
	}
	v := o.visit(visit)
	if v == nil || v.customer != inv.customer {
		return 0, nil // moved to another customer
	}
	streets := o.syncedWith(v, t.sameCrew)
	if len(streets) == 0 {
		return 0, nil
	}
	b := billed(inv, visit)
	s, c := roundBps(b, t.sync), roundBps(b, t.max)
	if inv.status == stDraft {
		return min(s, c), streets
	}
	var rewardLines int64 // the referral-reward lines this invoice already gave on the visit
	for _, l := range inv.frozen {
		if l.kind == kReward && l.visit == visit {
			rewardLines += -l.amount
		}
	}
	return max(0, min(s, c-rewardLines)), streets
}

// termsOf is the invoice's terms: the program's while a draft.
func (o *oracle) termsOf(inv *oInvoice) terms {
	if inv.status == stDraft {
		return o.prog.terms
	}
	return inv.terms
}

// latestPrice values a percent reward: the customer's latest visit with a
// price (latest service_date, then the highest id), else the program's
// estimate. Its status does not matter: the README names none.
func (o *oracle) latestPrice(customer string) int64 {
	var best *oVisit
	for _, v := range o.visits {
		if v.customer != customer || v.price <= 0 {
			continue
		}
		if best == nil || v.date > best.date || (v.date == best.date && v.seq > best.seq) {
			best = v
		}
	}
	if best == nil {
		return o.prog.estimatedVisit
	}
	return best.price
}

// rewardValue is a granted reward's value in cents, fixed when granted.
func (o *oracle) rewardValue(customer string, spec oRewardSpec) int64 {
	switch spec.kind {
	case rwFixed, rwAddon:
		return spec.amount
	case rwPoints:
		return int64(spec.points) * o.prog.pointValue
	case rwPercent:
		return roundBps(o.latestPrice(customer), spec.bps)
	}
	return 0
}

// xInvoice is what the oracle expects of one invoice.
type xInvoice struct {
	inv                       *oInvoice
	lines                     []xLine // computed lines
	subtotal, discount, total int64
	max                       int // the per-line cap of its terms
}

// xItem is what the oracle expects of one ledger item.
type xItem struct {
	key                                   itemKey
	kind                                  string
	owed, given, frozen, pending, inError int64
	status                                string
	givenOn                               map[string]int64 // invoice → amount
	statusOn                              map[string]string
	addon                                 bool // a free add-on: its line is 0, what it gives is its worth
}

type xLedger struct {
	customer                      string
	items                         map[itemKey]*xItem
	owed, given, pending, inError int64
}

type expectation struct {
	invoices map[string]*xInvoice
	ledgers  map[string]*xLedger
}

// expect works everything out from the facts.
func (o *oracle) expect() *expectation {
	e := &expectation{invoices: map[string]*xInvoice{}, ledgers: map[string]*xLedger{}}
	for _, c := range o.customers {
		o.expectCustomer(c.id, e)
	}
	return e
}

func (o *oracle) invoicesOf(customer string) []*oInvoice {
	var out []*oInvoice
	for _, inv := range o.invoices {
		if inv.customer == customer {
			out = append(out, inv)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func settled(status string) bool { return status == stIssued || status == stPaid }

func (o *oracle) expectCustomer(customer string, e *expectation) {
	invs := o.invoicesOf(customer)
	placed := map[string][]xLine{}
	var drafts []*oInvoice
	frozen := map[itemKey]int64{} // the part of each item on issued or paid invoices
	for _, inv := range invs {
		if inv.status == stDraft {
			drafts = append(drafts, inv)
			continue
		}
		placed[inv.id] = inv.frozen
		if settled(inv.status) {
			for _, l := range inv.frozen {
				frozen[l.item] += l.worth()
			}
		}
	}
	add := func(d *oInvoice, l xLine) { placed[d.id] = append(placed[d.id], l) }

	// 1. Every visit line of a draft gets its sync discount as one line.
	for _, d := range drafts {
		for _, li := range d.lines {
			if li.visit == "" {
				continue
			}
			owed, streets := o.owedSync(d, li.visit, o.prog.terms)
			if owed > 0 {
				add(d, xLine{kind: kSync, visit: li.visit, amount: -owed, item: itemKey{visit: li.visit, invoice: d.id},
					streets: streets, date: o.visit(li.visit).date.String()})
			}
		}
	}

	// Credit room: the subtotal less b·max of each visit line, less the
	// credits already placed.
	room := map[string]int64{}
	for _, d := range drafts {
		var r int64
		for _, li := range d.lines {
			r += li.amount
			if li.visit != "" {
				r -= roundBps(li.amount, o.prog.max)
			}
		}
		room[d.id] = r
	}

	// 2. Late credits, in invoice id then visit id order, each whole on the
	// first draft with room, or pending.
	for _, inv := range invs {
		if !settled(inv.status) {
			continue
		}
		for _, li := range byVisitOrder(o, inv.lines) {
			owed, _ := o.owedSync(inv, li.visit, inv.terms)
			key := itemKey{visit: li.visit, invoice: inv.id}
			x := owed - frozen[key]
			if x <= 0 {
				continue
			}
			for _, d := range drafts {
				if room[d.id] >= x {
					add(d, xLine{kind: kCredit, visit: li.visit, amount: -x, item: key, corrects: inv.id})
					room[d.id] -= x
					break
				}
			}
		}
	}

	// 3. Rewards in id order, each owed − frozen at most.
	rewards := o.rewardsOf(customer)
	for _, r := range rewards {
		key := itemKey{reward: r.id}
		rest := r.value - frozen[key]
		if rest <= 0 {
			continue
		}
		switch r.kind {
		case rwPercent:
		drafts:
			for _, d := range drafts {
				for _, li := range d.lines {
					if li.visit == "" {
						continue
					}
					var onLine int64 // discounts already on this line
					for _, l := range placed[d.id] {
						if (l.kind == kSync || l.kind == kReward) && l.visit == li.visit {
							onLine += -l.amount
						}
					}
					amt := min(roundBps(li.amount, r.bps), roundBps(li.amount, o.prog.max)-onLine, rest)
					if amt > 0 {
						add(d, xLine{kind: kReward, visit: li.visit, amount: -amt, item: key, referral: r.referral})
						rest -= amt
					}
					if rest == 0 {
						break drafts
					}
				}
			}
		case rwFixed, rwPoints:
			for _, d := range drafts {
				amt := min(rest, room[d.id])
				if amt > 0 {
					add(d, xLine{kind: kCredit, amount: -amt, item: key, referral: r.referral})
					room[d.id] -= amt
					rest -= amt
				}
				if rest == 0 {
					break
				}
			}
		case rwAddon:
			if len(drafts) > 0 {
				add(drafts[0], xLine{kind: kAddon, amount: 0, item: key, referral: r.referral, addon: r.addon, value: r.value})
			}
		}
	}

	// The invoices.
	for _, inv := range invs {
		xi := &xInvoice{inv: inv, lines: placed[inv.id], max: o.termsOf(inv).max}
		for _, li := range inv.lines {
			xi.subtotal += li.amount
		}
		for _, l := range xi.lines {
			if l.kind == kAddon {
				xi.subtotal += l.amount
			} else {
				xi.discount += -l.amount
			}
		}
		xi.total = xi.subtotal - xi.discount
		e.invoices[inv.id] = xi
	}

	// The ledger: every sync item and every granted reward.
	lg := &xLedger{customer: customer, items: map[itemKey]*xItem{}}
	e.ledgers[customer] = lg
	linesOf := func(key itemKey) (map[string]int64, map[string]string) {
		on, st := map[string]int64{}, map[string]string{}
		for _, inv := range invs {
			if inv.status == stVoid {
				continue
			}
			for _, l := range placed[inv.id] {
				if l.item == key {
					on[inv.id] += l.worth()
					st[inv.id] = inv.status
				}
			}
		}
		return on, st
	}
	finish := func(it *xItem) {
		it.givenOn, it.statusOn = linesOf(it.key)
		for id, amt := range it.givenOn {
			it.given += amt
			if settled(it.statusOn[id]) {
				it.frozen += amt
			}
		}
		if it.kind == kSync && it.owed < it.frozen {
			it.inError = it.frozen - it.owed
		} else {
			it.pending = it.owed - it.given
		}
		switch {
		case it.inError > 0:
			it.status = "given_in_error"
		case it.pending > 0:
			it.status = "pending"
		case it.frozen == it.given:
			it.status = "given"
		default:
			it.status = "on_draft"
		}
		if it.owed > 0 || it.given > 0 {
			lg.items[it.key] = it
			lg.owed += it.owed
			lg.given += it.given
			lg.pending += it.pending
			lg.inError += it.inError
		}
	}
	for _, inv := range invs {
		for _, li := range inv.lines {
			if li.visit == "" {
				continue
			}
			owed, _ := o.owedSync(inv, li.visit, o.termsOf(inv))
			finish(&xItem{key: itemKey{visit: li.visit, invoice: inv.id}, kind: kSync, owed: owed})
		}
	}
	for _, r := range rewards {
		finish(&xItem{key: itemKey{reward: r.id}, kind: "reward", owed: r.value, addon: r.kind == rwAddon})
	}
}

func (o *oracle) rewardsOf(customer string) []*oReward {
	var out []*oReward
	for _, r := range o.rewards {
		if r.customer == customer {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// byVisitOrder returns the lines naming a visit, in visit id order.
func byVisitOrder(o *oracle, lines []oLineIn) []oLineIn {
	var out []oLineIn
	for _, l := range lines {
		if l.visit != "" {
			out = append(out, l)
		}
	}
	seq := func(id string) int {
		if v := o.visit(id); v != nil {
			return v.seq
		}
		return math.MaxInt
	}
	sort.SliceStable(out, func(i, j int) bool { return seq(out[i].visit) < seq(out[j].visit) })
	return out
}

// clone copies the oracle's facts (for "what if" expectations).
func (o *oracle) clone() *oracle {
	c := &oracle{today: o.today, prog: o.prog}
	c.prog.offers = append([]oOffer(nil), o.prog.offers...)
	for _, x := range o.customers {
		y := *x
		y.streets = append([]string(nil), x.streets...)
		c.customers = append(c.customers, &y)
	}
	for _, x := range o.links {
		y := *x
		c.links = append(c.links, &y)
	}
	for _, x := range o.visits {
		y := *x
		c.visits = append(c.visits, &y)
	}
	for _, x := range o.invoices {
		y := *x
		y.lines = append([]oLineIn(nil), x.lines...)
		y.frozen = append([]xLine(nil), x.frozen...)
		c.invoices = append(c.invoices, &y)
	}
	for _, x := range o.rewards {
		y := *x
		c.rewards = append(c.rewards, &y)
	}
	for _, x := range o.referrals {
		y := *x
		c.referrals = append(c.referrals, &y)
	}
	return c
}

// TestOracleReadsTheREADME checks the oracle itself on small stories worked
// out by hand from the README, so that the model test rests on a reading
// of the rules, not on agreeing with routeloop.
func TestOracleReadsTheREADME(t *testing.T) {
	d := dayOf(2026, 5, 5)
	base := func() *oracle {
		o := &oracle{today: d - 3, prog: oProgram{terms: terms{sync: 1000, max: 2000}, radius: 500, pointValue: 10, estimatedVisit: 5000}}
		for i, id := range []string{"angie", "ben", "cleo"} {
			st := []string{"14 SE Maple St", "30 SE Maple St", "7 SE Birch Ave"}[i]
			o.customers = append(o.customers, &oCustomer{id: id, seq: i, street: st, streets: []string{st}, consent: true})
		}
		o.links = []*oLink{{id: 1, a: "angie", b: "ben", dist: 160, starts: d - 3}}
		o.visits = []*oVisit{
			{id: "va", seq: 0, customer: "angie", crew: "north", date: d, status: vScheduled, price: 4500},
			{id: "vb", seq: 1, customer: "ben", crew: "north", date: d, status: vScheduled, price: 4500},
		}
		return o
	}
	draft := func(o *oracle, id, customer string, lines ...oLineIn) *oInvoice {
		inv := &oInvoice{id: id, seq: len(o.invoices), customer: customer, status: stDraft, lines: lines}
		o.invoices = append(o.invoices, inv)
		return inv
	}
	issue := func(o *oracle, inv *oInvoice) {
		inv.frozen, inv.terms, inv.status, inv.leftDraft, inv.issued = o.expect().invoices[inv.id].lines, o.prog.terms, stIssued, true, true
	}
	line := func(v string, amount int64) oLineIn { return oLineIn{visit: v, desc: "Mow", amount: amount} }
	lines := func(x *expectation, id string) string { return fmt.Sprint(keysOf(x.invoices[id].lines)) }
	item := func(x *expectation, customer string, k itemKey) xItem {
		if it := x.ledgers[customer].items[k]; it != nil {
			return *it
		}
		return xItem{status: "absent"}
	}
	want := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s:\n got  %s\n want %s", what, got, want)
		}
	}
	amounts := func(it xItem) string {
		return fmt.Sprintf("owed %d given %d pending %d in error %d %s", it.owed, it.given, it.pending, it.inError, it.status)
	}

	if roundBps(4505, 1000) != 451 || roundBps(4504, 1000) != 450 || roundBps(-4505, 1000) != -451 || roundBps(5, 1000) != 1 || roundBps(4, 1000) != 0 {
		t.Fatal("rounding is not half away from zero")
	}

	// Angie and Ben, same Tuesday: 10% each; the reason names the
	// neighbour's street and the day.
	o := base()
	draft(o, "ia", "angie", line("va", 4500))
	draft(o, "ib", "ben", line("vb", 4505))
	x := o.expect()
	want("Angie's draft", lines(x, "ia"), "[{sync_discount va -450}]")
	want("Ben's draft, half away from zero", lines(x, "ib"), "[{sync_discount vb -451}]")
	if l := x.invoices["ia"].lines[0]; l.date != "2026-05-05" || !containsAny("30 SE Maple St", l.streets) {
		t.Errorf("Angie's reason names %q on %s", l.streets, l.date)
	}
	want("Angie's item", amounts(item(x, "angie", itemKey{visit: "va", invoice: "ia"})), "owed 450 given 450 pending 0 in error 0 on_draft")

	// Same crew required and Ben's crew differs: not synced. Cancelled: not synced.
	o.prog.sameCrew, o.visits[1].crew = true, "south"
	want("different crews", lines(o.expect(), "ia"), "[]")
	o.prog.sameCrew, o.visits[1].crew, o.visits[1].status = false, "north", vCancelled
	want("Ben cancelled", lines(o.expect(), "ia"), "[]")

	// A link is active from starts_on until the day before ends_on.
	o = base()
	draft(o, "ia", "angie", line("va", 4500))
	o.links[0].ended, o.links[0].ends = true, d
	want("link ends that day", lines(o.expect(), "ia"), "[]")
	o.links[0].ends = d + 1
	want("link ends the day after", lines(o.expect(), "ia"), "[{sync_discount va -450}]")

	// Issued before Ben was booked: a late credit on Angie's next draft,
	// whole, if its credit room holds it (1000 − 200 = 800 ≥ 450), else it waits.
	o = base()
	o.visits = o.visits[:1]
	ia := draft(o, "ia", "angie", line("va", 4500))
	issue(o, ia)
	o.visits = append(o.visits, &oVisit{id: "vb", seq: 1, customer: "ben", crew: "north", date: d, status: vScheduled, price: 4500})
	o.visits = append(o.visits, &oVisit{id: "va2", seq: 2, customer: "angie", crew: "north", date: d + 7, status: vScheduled, price: 1000})
	x = o.expect()
	want("Angie with no draft", amounts(item(x, "angie", itemKey{visit: "va", invoice: "ia"})), "owed 450 given 0 pending 450 in error 0 pending")
	small := draft(o, "ia2", "angie", line("va2", 500)) // room 500 − 100 = 400 < 450
	x = o.expect()
	want("a draft too small", lines(x, "ia2"), "[]")
	small.lines = []oLineIn{line("va2", 1000)}
	x = o.expect()
	want("the late credit", lines(x, "ia2"), "[{credit  -450}]")
	want("Angie's late item", amounts(item(x, "angie", itemKey{visit: "va", invoice: "ia"})), "owed 450 given 450 pending 0 in error 0 on_draft")
	// Issued with the credit on it: given. Then Ben cancels: in error, never clawed back.
	issue(o, small)
	o.visits[1].status = vCancelled
	x = o.expect()
	want("credit given in error", amounts(item(x, "angie", itemKey{visit: "va", invoice: "ia"})), "owed 0 given 450 pending 0 in error 450 given_in_error")
	// Voiding the invoice the credit corrects: owed 0 too; voiding the one it is on releases it.
	o.visits[1].status = vScheduled
	small.status = stVoid
	x = o.expect()
	want("credit released by a void", amounts(item(x, "angie", itemKey{visit: "va", invoice: "ia"})), "owed 450 given 0 pending 450 in error 0 pending")
	ia.status = stVoid
	x = o.expect()
	want("the corrected invoice void", amounts(item(x, "angie", itemKey{visit: "va", invoice: "ia"})), "owed 0 given 0 pending 0 in error 0 absent")

	// A program change does not re-price an issued invoice; a draft takes the new terms.
	o = base()
	ia = draft(o, "ia", "angie", line("va", 4500))
	draft(o, "ib", "ben", line("vb", 4500))
	issue(o, ia)
	o.prog.terms = terms{sync: 1500, max: 2000}
	x = o.expect()
	want("Ben's draft at 15%", lines(x, "ib"), "[{sync_discount vb -675}]")
	want("Angie's issued item", amounts(item(x, "angie", itemKey{visit: "va", invoice: "ia"})), "owed 450 given 450 pending 0 in error 0 given")

	// A visit moved to another customer discounts nobody's old draft.
	o = base()
	draft(o, "ia", "angie", line("va", 4500))
	o.visits[0].customer = "cleo"
	want("moved visit", lines(o.expect(), "ia"), "[]")

	// The cap: sync 1500, max 2000 on a 5000 line leaves 250 for a 10%
	// reward worth 500; the rest waits for the next draft.
	o = base()
	o.prog.terms = terms{sync: 1500, max: 2000}
	draft(o, "ia", "angie", line("va", 5000))
	o.rewards = []*oReward{{id: 7, customer: "angie", referral: 3, kind: rwPercent, bps: 1000, value: 500}}
	x = o.expect()
	want("sync and capped reward", lines(x, "ia"), "[{referral_reward va -250} {sync_discount va -750}]")
	want("reward carried", amounts(item(x, "angie", itemKey{reward: 7})), "owed 500 given 250 pending 250 in error 0 pending")
	// Issued: the invoice owes min(b·sync, b·max − reward lines) = min(750, 1000 − 250).
	issue(o, o.invoices[0])
	x = o.expect()
	want("issued with a reward line", amounts(item(x, "angie", itemKey{visit: "va", invoice: "ia"})), "owed 750 given 750 pending 0 in error 0 given")

	// A fixed credit fills the credit room (subtotal − b·max of each visit
	// line − credits already there) draft by draft; a free add-on is one
	// line of 0 on the first draft, given in full while it is there.
	o = base()
	o.links = nil
	draft(o, "ia", "angie", line("va", 1000), oLineIn{desc: "Hedge", amount: 500}) // room 1500 − 200 = 1300
	draft(o, "ia2", "angie", line("vb", 2000))                                     // room 1600
	o.visits[1].customer = "angie"
	o.rewards = []*oReward{{id: 8, customer: "angie", referral: 4, kind: rwFixed, value: 2000},
		{id: 9, customer: "angie", referral: 5, kind: rwAddon, value: 4000, addon: "Gutter clean"}}
	x = o.expect()
	want("credit on the first draft", lines(x, "ia"), "[{addon  0} {credit  -1300}]")
	want("the rest on the next", lines(x, "ia2"), "[{credit  -700}]")
	want("add-on given", amounts(item(x, "angie", itemKey{reward: 9})), "owed 4000 given 4000 pending 0 in error 0 on_draft")
	if xi := x.invoices["ia"]; xi.total != 200 || xi.subtotal != 1500 {
		t.Errorf("first draft totals %d − %d = %d", xi.subtotal, xi.discount, xi.total)
	}
}
