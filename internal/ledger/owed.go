package ledger

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
)

// Item kinds.
const (
	KindSyncDiscount = "sync_discount"
	KindReward       = "reward"
)

// Item statuses.
const (
	StatusGiven        = "given"          // all of it on issued or paid invoices
	StatusOnDraft      = "on_draft"       // all placed, some of it on a draft
	StatusPending      = "pending"        // part of it waits for a draft with room
	StatusGivenInError = "given_in_error" // an issued invoice gave more than is owed now
)

// Terms are the program settings an invoice is priced under: the current
// ones while it is a draft, those in force when it left draft afterwards.
type Terms struct {
	SyncBps  int
	MaxBps   int
	SameCrew bool
}

// TermsOf are the terms a program sets now.
func TermsOf(p program.Program) Terms {
	return Terms{SyncBps: p.SyncDiscountBps, MaxBps: p.MaxDiscountBps, SameCrew: p.SyncRequiresSameCrew}
}

// Item is one thing a customer is owed: the same-day discount for one visit
// on one invoice billing it, or one granted reward.
type Item struct {
	Key         string
	Kind        string
	CustomerID  int64
	VisitID     *int64
	InvoiceID   *int64
	RewardID    *int64
	ServiceDate *localdate.Date
	// Owed is what the facts say the customer is owed now; Frozen the part
	// given on issued or paid invoices; Given all that invoices not void
	// give (Frozen and drafts); Pending what is owed and not placed yet;
	// InError what issued invoices gave beyond what is owed.
	Owed, Given, Frozen, Pending, InError int64
	Status                                string
	Reason                                string
}

// Keys of items, as computed lines name them.
func syncKey(visitID, invoiceID int64) string {
	return "sync:" + strconv.FormatInt(visitID, 10) + ":" + strconv.FormatInt(invoiceID, 10)
}
func rewardKey(rewardID int64) string { return "reward:" + strconv.FormatInt(rewardID, 10) }

// parseKey reads an item key back.
func parseKey(key string) (kind string, a, b int64, ok bool) {
	// The keys syncKey and rewardKey write, without fmt (a day's
	// reconciliation reads a hundred thousand); anything else as before.
	if rest, found := strings.CutPrefix(key, "sync:"); found {
		if x, y, cut := strings.Cut(rest, ":"); cut {
			a, errA := strconv.ParseInt(x, 10, 64)
			b, errB := strconv.ParseInt(y, 10, 64)
			if errA == nil && errB == nil {
				return KindSyncDiscount, a, b, true
			}
		}
	} else if rest, found := strings.CutPrefix(key, "reward:"); found {
		if a, err := strconv.ParseInt(rest, 10, 64); err == nil {
			return KindReward, a, 0, true
		}
	}
	switch {
	case strings.HasPrefix(key, "sync:"):
		_, err := fmt.Sscanf(key, "sync:%d:%d", &a, &b)
		return KindSyncDiscount, a, b, err == nil
	case strings.HasPrefix(key, "reward:"):
		_, err := fmt.Sscanf(key, "reward:%d", &a)
		return KindReward, a, 0, err == nil
	}
	return "", 0, 0, false
}

// invoiceFacts is one of a customer's invoices that is not void.
type invoiceFacts struct {
	ID          int64
	ExternalID  string
	PublicToken string // its customer page's key, for invoice_url
	PayURL      string // the scheduler's payment page, for pay_url
	Status      string
	Terms       Terms // for issued and paid invoices
	Lines       []invoice.Line
	Subtotal    int64
	Discount    int64
	Total       int64
}

func (x *invoiceFacts) draft() bool { return x.Status == invoice.StatusDraft }

// billedVisit is what an invoice charges for one visit.
type billedVisit struct {
	VisitID int64
	Amount  int64
}

// billed lists the visits the scheduler's lines charge, in line order,
// with the amount charged for each.
func (x *invoiceFacts) billed() []billedVisit {
	var out []billedVisit
	at := map[int64]int{}
	for _, l := range x.Lines {
		if l.ItemKey != nil || l.SourceKey != nil || !l.Charges() || l.VisitID == nil {
			continue
		}
		if i, ok := at[*l.VisitID]; ok {
			out[i].Amount += l.AmountCents
			continue
		}
		at[*l.VisitID] = len(out)
		out = append(out, billedVisit{VisitID: *l.VisitID, Amount: l.AmountCents})
	}
	return out
}

// schedulerLines are the lines the scheduler sent.
func (x *invoiceFacts) schedulerLines() []invoice.Line {
	var out []invoice.Line
	for _, l := range x.Lines {
		if l.ItemKey == nil && l.SourceKey == nil {
			out = append(out, l)
		}
	}
	return out
}

// computedLines are the lines routeloop added.
func (x *invoiceFacts) computedLines() []invoice.Line {
	var out []invoice.Line
	for _, l := range x.Lines {
		if l.ItemKey != nil || l.SourceKey != nil {
			out = append(out, l)
		}
	}
	return out
}

// rewardFacts is a granted reward.
type rewardFacts struct {
	ID        int64
	Kind      string
	Bps       int
	Value     int64
	Points    int
	AddonName string
	Reason    string
}

// customerFacts is what one customer's money depends on of their own.
type customerFacts struct {
	ID       int64
	Invoices []*invoiceFacts // not void, by id
	Rewards  []rewardFacts   // granted, by id
}

// world is what several customers' money depends on together: the visits
// their invoices bill, who was serviced the same day, the program.
type world struct {
	terms   Terms // the program's, for drafts
	visits  map[int64]VisitRef
	matches map[bool]map[int64]Match // by the same-crew rule
	streets map[int64]string         // neighbours' streets, for reasons
	// invoiceIDs are the scheduler's ids of the invoices items name.
	invoiceIDs map[int64]string
	syncDesc   string // the description of a draft's sync discount line
}

// plan is what a customer should have: the computed lines of each draft
// and every item of the ledger.
type plan struct {
	lines map[int64][]invoice.Line // draft id → computed lines
	items []*Item
}

// syncOwed is the same-day discount owed for a visit billed at amount on an
// invoice of customerID under terms t, and why (rule 13: the one place this
// is decided).
func (w *world) syncOwed(customerID int64, b billedVisit, t Terms) (int64, string) {
	v, ok := w.visits[b.VisitID]
	if !ok || v.CustomerID != customerID || t.SyncBps == 0 {
		return 0, ""
	}
	m, ok := w.matches[t.SameCrew][b.VisitID]
	if !ok {
		return 0, ""
	}
	return min(invoice.PercentOf(b.Amount, t.SyncBps), invoice.PercentOf(b.Amount, t.MaxBps)), m.Reason(w.streets[m.NeighborID])
}

// lineRoom is how much more percent discount a draft's visit line takes.
type lineRoom struct {
	visitID int64
	amount  int64
	room    int64
}

// work decides what customer c is owed and how it lands on their drafts
// (README "The money ledger"): sync discounts on the drafts' visit lines,
// then late credits for issued invoices oldest first, then rewards in
// order, each within the per-line cap and the drafts' credit room;
// whatever does not fit stays pending.
func (w *world) work(c *customerFacts) plan {
	k := w.startWork(c)
	k.countFrozen()
	k.countOwed()
	k.placeSyncDiscounts()
	k.placeLateCredits()
	k.placeRewards()
	return k.settle()
}

// customerWork is one customer's pass through work: the items as they are
// found, and the lines placed on the drafts so far.
type customerWork struct {
	w              *world
	c              *customerFacts
	items          map[string]*Item
	rewards        map[int64]rewardFacts
	drafts, frozen []*invoiceFacts
	out            plan
	placed         map[string]int64      // given on drafts, per item
	rooms          map[int64][]*lineRoom // the percent room of each draft's visit lines
	creditRoom     map[int64]int64       // the room left for credits on each draft
}

func (w *world) startWork(c *customerFacts) *customerWork {
	k := &customerWork{w: w, c: c, items: map[string]*Item{}, out: plan{lines: map[int64][]invoice.Line{}}, placed: map[string]int64{},
		rooms: map[int64][]*lineRoom{}, creditRoom: map[int64]int64{}}
	if len(c.Rewards) > 0 {
		k.rewards = make(map[int64]rewardFacts, len(c.Rewards))
		for _, r := range c.Rewards {
			k.rewards[r.ID] = r
		}
	}
	for _, x := range c.Invoices {
		if x.draft() {
			k.drafts = append(k.drafts, x)
		} else {
			k.frozen = append(k.frozen, x)
		}
	}
	return k
}

// item is the item a key names, made on first use.
func (k *customerWork) item(key string) *Item {
	it, ok := k.items[key]
	if ok {
		return it
	}
	it = &Item{Key: key, CustomerID: k.c.ID}
	kind, a, b, _ := parseKey(key)
	it.Kind = kind
	switch kind {
	case KindSyncDiscount:
		it.VisitID, it.InvoiceID = &a, &b
		if v, ok := k.w.visits[a]; ok {
			d := v.ServiceDate
			it.ServiceDate = &d
		}
	case KindReward:
		it.RewardID = &a
	}
	k.items[key] = it
	return it
}

// put places a computed line for an item on a draft, giving amount of it.
func (k *customerWork) put(x *invoiceFacts, it *Item, l invoice.Line, given int64) {
	key := it.Key
	l.ItemKey = &key
	k.out.lines[x.ID] = append(k.out.lines[x.ID], l)
	k.placed[key] += given
}

// countFrozen counts what issued and paid invoices gave, per item; a free
// add-on gave its reward's value.
func (k *customerWork) countFrozen() {
	for _, x := range k.frozen {
		for _, l := range x.Lines {
			if l.ItemKey == nil {
				continue
			}
			it := k.item(*l.ItemKey)
			given := -l.AmountCents
			if l.Kind == invoice.KindAddon && it.RewardID != nil {
				given = k.rewards[*it.RewardID].Value
			}
			it.Frozen += given
		}
	}
}

// countOwed finds the sync discount owed for every visit each invoice
// bills, under the invoice's terms; on an issued invoice, within what its
// reward lines left under the cap.
func (k *customerWork) countOwed() {
	for _, x := range k.c.Invoices {
		t := k.w.terms
		if !x.draft() {
			t = x.Terms
		}
		rewardPct := map[int64]int64{}
		for _, l := range x.Lines {
			if l.Kind == invoice.KindReferralReward && l.VisitID != nil {
				rewardPct[*l.VisitID] -= l.AmountCents
			}
		}
		for _, b := range x.billed() {
			it := k.item(syncKey(b.VisitID, x.ID))
			owed, reason := k.w.syncOwed(k.c.ID, b, t)
			if !x.draft() && owed > 0 {
				owed = max(0, min(owed, invoice.PercentOf(b.Amount, t.MaxBps)-rewardPct[b.VisitID]))
			}
			it.Owed, it.Reason = owed, reason
		}
	}
}

// placeSyncDiscounts puts the drafts' own sync discounts on them, line by
// line, and measures the room each draft has left: per visit line under the
// cap, and for credits.
func (k *customerWork) placeSyncDiscounts() {
	desc := k.w.syncDesc
	for _, x := range k.drafts {
		var subtotal, capped int64
		for _, l := range x.schedulerLines() {
			if l.Charges() {
				subtotal += l.AmountCents
			}
		}
		for _, b := range x.billed() {
			lr := &lineRoom{visitID: b.VisitID, amount: b.Amount, room: invoice.PercentOf(b.Amount, k.w.terms.MaxBps)}
			capped += lr.room
			it := k.item(syncKey(b.VisitID, x.ID))
			if it.Owed > 0 {
				v := b.VisitID
				k.put(x, it, invoice.Line{Kind: invoice.KindSyncDiscount, VisitID: &v, Description: desc,
					AmountCents: -it.Owed, Reason: it.Reason, SourceKey: ptr(it.Key)}, it.Owed)
				lr.room -= it.Owed
			}
			k.rooms[x.ID] = append(k.rooms[x.ID], lr)
		}
		k.creditRoom[x.ID] = subtotal - capped
	}
}

// placeLateCredits credits what issued invoices owe beyond what they gave,
// invoice by invoice, visit by visit, each whole on the first draft with
// room.
func (k *customerWork) placeLateCredits() {
	for _, x := range k.frozen {
		bs := x.billed()
		sort.Slice(bs, func(i, j int) bool { return bs[i].VisitID < bs[j].VisitID })
		for _, b := range bs {
			it := k.item(syncKey(b.VisitID, x.ID))
			rest := it.Owed - it.Frozen
			if rest <= 0 {
				continue
			}
			for _, d := range k.drafts {
				if k.creditRoom[d.ID] < rest {
					continue
				}
				v := b.VisitID
				k.put(d, it, invoice.Line{Kind: invoice.KindCredit, VisitID: &v, AmountCents: -rest,
					Description: "Credit: same-day neighbour discount missed on invoice " + x.ExternalID,
					Reason:      fmt.Sprintf("%s; not on invoice %s when it was issued", it.Reason, x.ExternalID),
					SourceKey:   ptr(it.Key)}, rest)
				k.creditRoom[d.ID] -= rest
				break
			}
		}
	}
}

// placeRewards places the rewards, oldest first, as far as caps and room
// allow.
func (k *customerWork) placeRewards() {
	for _, r := range k.c.Rewards {
		it := k.item(rewardKey(r.ID))
		it.Owed, it.Reason = r.Value, r.Reason
		rest := r.Value - it.Frozen
		if rest <= 0 {
			continue
		}
		switch r.Kind {
		case program.RewardPercentNextInvoice:
			k.placePercentReward(it, r, rest)
		case program.RewardFixedCredit, program.RewardPoints:
			k.placeCreditReward(it, r, rest)
		case program.RewardFreeAddon:
			if len(k.drafts) > 0 {
				k.put(k.drafts[0], it, invoice.Line{Kind: invoice.KindAddon, AmountCents: 0,
					Description: fmt.Sprintf("Free %s (worth %s) — referral reward", r.AddonName, Cents(r.Value)),
					Reason:      r.Reason, SourceKey: ptr(it.Key)}, rest)
			}
		}
	}
}

// placePercentReward takes a percent off the drafts' visit lines, within
// each line's room under the cap, until rest is given.
func (k *customerWork) placePercentReward(it *Item, r rewardFacts, rest int64) {
	for _, d := range k.drafts {
		for _, lr := range k.rooms[d.ID] {
			amount := min(invoice.PercentOf(lr.amount, r.Bps), lr.room, rest)
			if amount <= 0 {
				continue
			}
			v := lr.visitID
			k.put(d, it, invoice.Line{Kind: invoice.KindReferralReward, VisitID: &v, AmountCents: -amount,
				Description: fmt.Sprintf("Referral reward (%s)", program.Percent(r.Bps)), Reason: r.Reason,
				SourceKey: ptr(fmt.Sprintf("%s:visit:%d", it.Key, v))}, amount)
			lr.room -= amount
			rest -= amount
		}
	}
}

// placeCreditReward credits a fixed amount (or points' worth) on the
// drafts, within each draft's credit room, until rest is given.
func (k *customerWork) placeCreditReward(it *Item, r rewardFacts, rest int64) {
	description := "Referral credit"
	if r.Kind == program.RewardPoints {
		description = fmt.Sprintf("Referral points (%d points)", r.Points)
	}
	for _, d := range k.drafts {
		amount := min(rest, k.creditRoom[d.ID])
		if amount <= 0 {
			continue
		}
		k.put(d, it, invoice.Line{Kind: invoice.KindCredit, AmountCents: -amount, Description: description,
			Reason: r.Reason, SourceKey: ptr(it.Key)}, amount)
		k.creditRoom[d.ID] -= amount
		rest -= amount
	}
}

// settle gives each item what it was given, pending and in error, and its
// status; the plan lists the items anything is owed or given for, by key.
func (k *customerWork) settle() plan {
	for _, it := range k.items {
		it.Given = it.Frozen + k.placed[it.Key]
		it.Pending = max(0, it.Owed-it.Given)
		it.InError = max(0, it.Frozen-it.Owed)
		switch {
		case it.InError > 0:
			it.Status = StatusGivenInError
			it.Reason = k.w.errorReason(it, k.c)
		case it.Pending > 0:
			it.Status = StatusPending
		case k.placed[it.Key] > 0:
			it.Status = StatusOnDraft
		default:
			it.Status = StatusGiven
		}
		if it.Owed == 0 && it.Given == 0 {
			continue
		}
		k.out.items = append(k.out.items, it)
	}
	slices.SortFunc(k.out.items, func(a, b *Item) int { return strings.Compare(a.Key, b.Key) })
	return k.out
}

// errorReason explains a discount that an issued invoice gave and that no
// longer holds; it is recorded for review, never clawed back.
func (w *world) errorReason(it *Item, c *customerFacts) string {
	if it.Kind == KindReward {
		return fmt.Sprintf("%s; invoices gave %s of a reward worth %s", it.Reason, Cents(it.Frozen), Cents(it.Owed))
	}
	inv := w.invoiceIDs[*it.InvoiceID]
	why := "no linked neighbour was serviced that day any more (cancelled, moved or unlinked)"
	switch {
	case !slices.ContainsFunc(c.Invoices, func(x *invoiceFacts) bool { return x.ID == *it.InvoiceID }):
		why = "that invoice was voided"
	case it.Owed > 0:
		why = "less is owed now"
	default:
		if v, ok := w.visits[*it.VisitID]; ok && v.CustomerID != it.CustomerID {
			why = "the visit was moved to another customer"
		}
	}
	day := ""
	if it.ServiceDate != nil {
		day = " of " + it.ServiceDate.String()
	}
	return fmt.Sprintf("a same-day discount of %s was given for the visit%s on invoice %s, but %s; it was not clawed back",
		Cents(it.Frozen-it.Owed), day, inv, why)
}

func ptr[T any](v T) *T { return &v }

// Cents writes an amount of minor units with two decimals: 1500 → "15.00".
func Cents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}
