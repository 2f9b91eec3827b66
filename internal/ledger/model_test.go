package ledger_test

// The model test: random sequences of events against routeloop through its
// HTTP API, and after every step a comparison of the stored invoices and
// the ledger read-back with the oracle (oracle_test.go), a separate reading
// of the README's money rules over its own copy of the facts. A third of
// the visit, invoice and customer writes go as the scheduler's signed
// webhooks instead (a quarter of those delivered twice, and a crashed one
// delivered again with the same webhook-id).
//
// Three variants, each on SQLite and PostgreSQL (storetest.Each):
//
//	TestModelSequential  random sequences, compared exactly after every step
//	TestModelConcurrent  issue A's draft while B's same-day visit is written, for many linked pairs at once
//	TestModelCrash       a fault inside one write, a restart, the state without it, the write again
//
// Run (one go test at a time on the 2-core machine):
//
//	go test ./internal/ledger -run TestModel -count=1                               # all three
//	go test ./internal/ledger -run 'TestModelSequential/sqlite' -count=1 -v -seed 42  # replay one sequence
//	ROUTELOOP_MODEL_SEQUENCES=5000 go test ./internal/ledger -run TestModelSequential -count=1
//	go test ./internal/ledger -run TestModelSequential -count=1 -long -timeout 0     # 100,000 sequences
//
// Settings (environment):
//
//	ROUTELOOP_MODEL_SEQUENCES        sequences per database (default 1000, 140 under -race; -long: 50,000)
//	ROUTELOOP_MODEL_CRASH_SEQUENCES  crash sequences per database (default 150, 10 under -race)
//	ROUTELOOP_MODEL_PAIRS            linked pairs of the concurrent variant (default 100, 50 under -race)
//	ROUTELOOP_MODEL_CONCURRENT_ROUNDS rounds of it (default 1)
//	ROUTELOOP_MODEL_SEED             the same as -seed: replay that one sequence
//	ROUTELOOP_MODEL_FIRST_SEED       seeds run from here (default 1)
//	ROUTELOOP_MODEL_WORKERS          sequences side by side (default the CPUs, 1 under -race)
//	ROUTELOOP_MODEL_KEEP_GOING=1     report every failing seed, not just the first
//	ROUTELOOP_MODEL_SUMMARY=1        with KEEP_GOING, one line per failing seed
//	ROUTELOOP_MODEL_VERBOSE=1        print the steps of passing sequences too
//	ROUTELOOP_MODEL_LEGACY=1         against the code from before the ledger: a 404 ledger is
//	                                 not read back, fixed credits only, the program changes only
//	                                 its radius, prices in whole dollars and no lines without a visit
//
// A failure prints the seed, the replay command and the numbered steps with
// each request and answer, and the oracle's view of the facts.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// The default sizes keep `go test ./...` on the 2-core development machine
// near a minute and CI's `go test -race ./...` under two minutes for this
// package: under the race detector routeloop on SQLite runs about 20 times
// slower (2 sequences a second against 40), so the defaults shrink.
var raceEnabled = storetest.RaceDetector

func byRace(plain, race int) int {
	if raceEnabled {
		return race
	}
	return plain
}

func sequencesPerDatabase() int {
	if *flagLong {
		return 50_000
	}
	return envInt("ROUTELOOP_MODEL_SEQUENCES", byRace(1000, 140))
}

func TestModelSequential(t *testing.T) {
	defer ledger.SetReconcileBatch(1)()
	n := sequencesPerDatabase()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		runMany(t, w, n, false)
	})
}

func TestModelCrash(t *testing.T) {
	defer ledger.SetReconcileBatch(1)()
	n := envInt("ROUTELOOP_MODEL_CRASH_SEQUENCES", byRace(150, 10))
	if *flagLong {
		n = 5000
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		runMany(t, w, n, true)
	})
}

func runMany(t *testing.T, w *world, n int, crash bool) {
	seeds := make([]uint64, 0, n)
	if s := replaySeed(); s != 0 {
		seeds = append(seeds, s)
	} else {
		first := envInt("ROUTELOOP_MODEL_FIRST_SEED", 1)
		for i := first; i < first+n; i++ {
			seeds = append(seeds, uint64(i))
		}
	}
	keepGoing := os.Getenv("ROUTELOOP_MODEL_KEEP_GOING") == "1"
	// Sequences run side by side, each in its own tenant with its own
	// routeloop and clock over the one database; the crash variant runs
	// one at a time (the fault hook is global).
	workers := min(envInt("ROUTELOOP_MODEL_WORKERS", byRace(runtime.GOMAXPROCS(0), 1)), len(seeds))
	if crash || workers < 1 {
		workers = 1
	}
	type result struct {
		done bool
		log  []string
		seen map[string]bool
		err  error
	}
	results := make([]result, len(seeds))
	var nextSeed atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for k := 0; k < workers; k++ {
		ww := w
		if k > 0 {
			ww = newWorld(t, w.store)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(nextSeed.Add(1) - 1)
				if i >= len(seeds) {
					return
				}
				r := ww.newRun(seeds[i], crash)
				err := r.sequence()
				results[i] = result{done: true, log: r.log, seen: r.seen, err: err}
				if err != nil && !keepGoing {
					stop.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	steps, failed, ran := 0, 0, 0
	seen := map[string]int{} // how many sequences met each situation
	test := "TestModelSequential"
	if crash {
		test = "TestModelCrash"
	}
	for i, res := range results {
		if !res.done {
			continue
		}
		ran++
		seed := seeds[i]
		steps += len(res.log)
		for k := range res.seen {
			seen[k]++
		}
		if res.err == nil {
			if os.Getenv("ROUTELOOP_MODEL_VERBOSE") == "1" {
				t.Logf("seed %d on %s passed:\n%s", seed, w.store.Dialect, strings.Join(res.log, "\n"))
			}
			continue
		}
		failed++
		if os.Getenv("ROUTELOOP_MODEL_SUMMARY") == "1" { // one line per failing seed
			first := strings.SplitN(res.err.Error(), "\n", 3)
			what := first[0]
			if len(first) > 1 {
				what += " | " + strings.TrimSpace(first[1])
			}
			desc := ""
			if len(res.log) > 0 {
				desc = strings.SplitN(strings.TrimSpace(res.log[len(res.log)-1]), "\n", 2)[0]
			}
			t.Errorf("FAIL seed %d on %s at %s: %s", seed, w.store.Dialect, desc, what)
			continue
		}
		t.Errorf("model sequence failed: seed %d on %s\nreplay: go test ./internal/ledger -run '%s/%s' -count=1 -v -seed %d\n%v\nsteps:\n%s",
			seed, w.store.Dialect, test, w.store.Dialect, seed, res.err, strings.Join(res.log, "\n"))
		if !keepGoing {
			break // the first failing seed is the one to replay
		}
	}
	t.Logf("%s: %d sequences (%d failed), %d steps in %v with %d workers: %.1f sequences/s", w.store.Dialect, ran, failed, steps,
		el.Round(time.Millisecond), workers, float64(ran)/el.Seconds())
	var kinds []string
	for k, n := range seen {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("sequences that met: %s", strings.Join(kinds, ", "))
}

// world is one database with a routeloop over it; every sequence gets a
// fresh tenant in it.
type world struct {
	t     testing.TB
	store *store.Store
	clock *clock.Fixed
	app   *app.App
	logs  *logBuffer
}

// logBuffer keeps the server's error log of the current step.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 20000 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *logBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

func newWorld(t testing.TB, s *store.Store) *world {
	w := &world{t: t, store: s, clock: clock.NewFixed(time.Date(2026, 5, 4, 19, 0, 0, 0, time.UTC)), logs: &logBuffer{}}
	w.app = w.wire()
	return w
}

// wire builds a routeloop over the world's database: at start, and again
// for a "restart" after a crash.
func (w *world) wire() *app.App {
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelError}))
	return app.Wire(config.Defaults(), w.store, w.clock, log)
}

var losAngeles = func() *time.Location {
	l, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		panic(err)
	}
	return l
}()

// The neighbourhood: SE Portland around 14 SE Maple St.
const (
	lat0, lon0  = 45.4655, -122.6501
	mPerDegLat  = 111_320.0
	clusterM    = 140.0 // customers live within this of the centre, so within ~280 m of each other
	farM        = 2500.0
	minApartM   = 20.0 // more than the 15 m of a self-referral
	boundaryGap = 3.0  // no distance this close to a radius the program may take
)

var (
	radii      = []int{500, 300, 200, 120}
	streetName = []string{"SE Maple St", "SE Birch Ave", "SE Oak St", "SE Alder St", "SE Elm St"}
)

func mPerDegLon() float64 { return mPerDegLat * math.Cos(lat0*math.Pi/180) }

// failure stops a sequence; sequence() recovers it.
type failure struct{ msg string }

// run is one sequence.
type run struct {
	w       *world
	seed    uint64
	rng     *rand.Rand
	crash   bool
	c       *client
	tenant  string
	o       *oracle
	log     []string
	last    *observed
	views   map[string]string // invoice → its frozen view when it was issued
	counter map[string]int
	secret  string // the tenant's webhook signing secret
	legacy  bool
	ledger  bool // the ledger is read back
	seen    map[string]bool
	// routeDays are the days most visits fall on (within ten days of the
	// first day), so that neighbours meet.
	routeDays []day
	lastX     *expectation
}

func (w *world) newRun(seed uint64, crash bool) *run {
	return &run{w: w, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x5eed)), crash: crash, views: map[string]string{},
		counter: map[string]int{}, legacy: legacy(), ledger: true, seen: map[string]bool{}}
}

func (r *run) fail(f string, args ...any) {
	panic(failure{fmt.Sprintf(f, args...)})
}

func (r *run) next(kind string) int {
	r.counter[kind]++
	return r.counter[kind]
}

// sequence runs the whole sequence and returns what went wrong, if anything.
func (r *run) sequence() (err error) {
	defer func() {
		if v := recover(); v != nil {
			f, ok := v.(failure)
			if !ok {
				panic(v)
			}
			err = errors.New(f.msg)
		}
		ledger.FaultHook.Store(nil)
	}()
	r.setup()
	n := 12 + r.rng.IntN(9)
	crashAt := -1
	if r.crash {
		crashAt = r.rng.IntN(n)
	}
	// The opening: a link or two and a few visits, so neighbours meet early.
	var opening []func() *step
	for k := 1 + r.rng.IntN(2); k > 0; k-- {
		opening = append(opening, r.genLinkCreate)
	}
	for k := 3 + r.rng.IntN(2); k > 0; k-- {
		opening = append(opening, func() *step { return r.genVisitCreate(nil) })
	}
	if r.rng.IntN(2) == 0 { // a draft issued early, so that a neighbour booked later makes a late discount
		opening = append(opening, r.genInvoiceDraft, func() *step {
			var drafts []*oInvoice
			for _, inv := range r.o.invoices {
				if inv.status == stDraft {
					drafts = append(drafts, inv)
				}
			}
			if len(drafts) == 0 {
				return nil
			}
			return r.genInvoiceIssue(drafts)
		})
	}
	if r.rng.IntN(20) < 7 { // a friend referred, signing up and served: a conversion
		opening = append(opening, r.genReferral, func() *step { return r.genFriendSignUp(r.waiting()) },
			func() *step { return r.genVisitCreate(r.signedUp()) })
	}
	for i := 0; i < n; i++ {
		var st *step
		if i < len(opening) {
			st = opening[i]()
		}
		if st == nil {
			st = r.pick()
		}
		if i >= crashAt && crashAt >= 0 && st.req != nil && st.money {
			r.execCrash(st)
			crashAt = -1
			continue
		}
		r.exec(st)
	}
	r.checkFacts()
	return nil
}

// setup gives the sequence a tenant, its program, two crews and 4–6
// customers who all agreed to same-day service.
func (r *run) setup() {
	ctx := context.Background()
	start := time.Date(2026, 5, 4, 19, 0, 0, 0, time.UTC).AddDate(0, 0, r.rng.IntN(21)) // noon in Portland, May–June
	r.w.clock.Set(start)
	ten, key, err := r.w.app.Tenants.Create(ctx, tenant.NewTenant{Name: fmt.Sprintf("Model %d", r.seed), Timezone: "America/Los_Angeles", Currency: "USD"})
	if err != nil {
		r.fail("create tenant: %v", err)
	}
	r.tenant = ten.ID
	r.c = &client{h: r.w.app.HTTP, key: key}
	local := start.In(losAngeles)
	r.o = &oracle{today: dayOf(local.Year(), local.Month(), local.Day())}
	for len(r.routeDays) < 4 {
		d := r.o.today + day(r.rng.IntN(7)) // links start today: the days that can be synced are ahead
		if len(r.routeDays) == 3 {
			d = r.o.today - day(1+r.rng.IntN(10))
		}
		if !slices.Contains(r.routeDays, d) {
			r.routeDays = append(r.routeDays, d)
		}
	}

	// The program: explicit values, so the oracle needs no defaults.
	p := oProgram{terms: terms{sync: 1000, max: 2000}, radius: 500, pointValue: 10, estimatedVisit: 5000}
	if r.rng.IntN(3) == 0 {
		p.sync = []int{0, 500, 1000, 1500}[r.rng.IntN(4)]
		p.max = max(p.sync, []int{1000, 1500, 2000, 3000}[r.rng.IntN(4)])
		p.sameCrew = r.rng.IntN(2) == 0
	}
	if r.legacy {
		p.terms = terms{sync: 1000, max: 2000}
	}
	p.offers = r.chooseOffers()
	r.o.prog = p
	var offers []any
	for _, of := range p.offers {
		offers = append(offers, map[string]any{"name": of.name, "referee": specJSON(of.referee), "referrer": specJSON(of.referrer)})
	}
	r.exec(&step{desc: "program", req: &request{"PUT", "/api/v1/program", map[string]any{
		"sync_discount_bps": p.sync, "max_discount_bps": p.max, "sync_requires_same_crew": p.sameCrew, "neighbor_radius_m": p.radius,
		"point_value_cents": p.pointValue, "estimated_visit_cents": p.estimatedVisit, "offers": offers,
		"monthly_budget_cents": 0, "referrer_cap": 32, "burst_max": 10000, "convert_on": "first_completed_visit",
	}}, expect: expectOK, noCheck: true})
	for _, crew := range []string{"crew-a", "crew-b"} {
		r.exec(&step{desc: "crew " + crew, req: &request{"PUT", "/api/v1/crews/" + crew, map[string]any{
			"name": "Crew " + crew, "depot_lat": 45.5, "depot_lon": -122.66}}, expect: expectOK, noCheck: true})
	}
	n := 4 + r.rng.IntN(3)
	for i := 0; i < n; i++ {
		c := r.newCustomer(fmt.Sprintf("c%02d", i+1), "")
		r.exec(&step{desc: "customer " + c.id, req: &request{"PUT", "/api/v1/customers/" + c.id, customerBody(c)}, expect: expectOK,
			noCheck: i < n-1, apply: func(answer) { r.o.customers = append(r.o.customers, c) }})
	}
	if r.legacy {
		return
	}
	// From now on the scheduler also sends some of its writes as signed
	// webhooks (asHook).
	a := r.c.do("POST", "/api/v1/webhook-secrets", nil)
	var sec struct {
		Secret string `json:"secret"`
	}
	if err := a.decode(&sec); err != nil || a.status != 201 || sec.Secret == "" {
		r.fail("create the webhook secret: %d %s", a.status, short(a.raw))
	}
	r.secret = sec.Secret
}

// The offers a sequence may grant. Legacy runs (the code before the
// ledger) grant fixed credits only.
func (r *run) chooseOffers() []oOffer {
	pool := []oOffer{
		{name: "standard", referee: oRewardSpec{kind: rwFixed, amount: 1500}, referrer: oRewardSpec{kind: rwPercent, bps: 1000}},
		{name: "credit", referee: oRewardSpec{kind: rwFixed, amount: 2500}, referrer: oRewardSpec{kind: rwFixed, amount: 4000}},
		{name: "points", referee: oRewardSpec{kind: rwPoints, points: 150}, referrer: oRewardSpec{kind: rwPoints, points: 320}},
		{name: "addon", referee: oRewardSpec{kind: rwAddon, addon: "Gutter clean", amount: 4000}, referrer: oRewardSpec{kind: rwPercent, bps: 1500}},
		{name: "big", referee: oRewardSpec{kind: rwFixed, amount: 9000}, referrer: oRewardSpec{kind: rwFixed, amount: 12000}},
	}
	if r.legacy {
		pool = []oOffer{
			{name: "credit", referee: oRewardSpec{kind: rwFixed, amount: 2500}, referrer: oRewardSpec{kind: rwFixed, amount: 4000}},
			{name: "big", referee: oRewardSpec{kind: rwFixed, amount: 9000}, referrer: oRewardSpec{kind: rwFixed, amount: 12000}},
			{name: "small", referee: oRewardSpec{kind: rwFixed, amount: 700}, referrer: oRewardSpec{kind: rwFixed, amount: 1500}},
		}
	}
	r.rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	return append([]oOffer(nil), pool[:1+r.rng.IntN(3)]...)
}

func specJSON(s oRewardSpec) map[string]any {
	m := map[string]any{"kind": s.kind}
	switch s.kind {
	case rwFixed:
		m["amount_cents"] = s.amount
	case rwPercent:
		m["bps"] = s.bps
	case rwPoints:
		m["points"] = s.points
	case rwAddon:
		m["addon_name"], m["amount_cents"] = s.addon, s.amount
	}
	return m
}

// newCustomer makes up a household in the neighbourhood, more than 20 m
// from everyone else and with no distance near a radius the program may
// take (the oracle and routeloop measure distances in their own ways).
func (r *run) newCustomer(id, email string) *oCustomer {
	n := r.next("street")
	c := &oCustomer{id: id, seq: len(r.o.customers), name: "Customer " + strings.ToUpper(id), email: email,
		phone: fmt.Sprintf("+1 503 555 %04d", 1000+r.next("phone")), consent: true}
	if c.email == "" {
		c.email = id + "@example.com"
	}
	r.place(c, false)
	c.street = fmt.Sprintf("%d %s", 10+4*n, streetName[n%len(streetName)])
	c.streets = []string{c.street}
	return c
}

// place puts c somewhere in the neighbourhood (or far from it).
func (r *run) place(c *oCustomer, far bool) {
	for try := 0; try < 500; try++ {
		rad, ang := clusterM*math.Sqrt(r.rng.Float64()), 2*math.Pi*r.rng.Float64()
		north, east := rad*math.Cos(ang), rad*math.Sin(ang)
		if far {
			north += farM
		}
		lat, lon := lat0+north/mPerDegLat, lon0+east/mPerDegLon()
		lat, lon = math.Round(lat*1e6)/1e6, math.Round(lon*1e6)/1e6
		ok := true
		for _, o := range r.o.customers {
			if o.id == c.id {
				continue
			}
			d := metres(lat, lon, o.lat, o.lon)
			if d < minApartM {
				ok = false
			}
			for _, rr := range radii {
				if math.Abs(d-float64(rr)) < boundaryGap {
					ok = false
				}
			}
		}
		if ok {
			c.lat, c.lon = lat, lon
			return
		}
	}
	r.fail("could not place customer %s", c.id)
}

func customerBody(c *oCustomer) map[string]any {
	return map[string]any{"name": c.name, "email": c.email, "phone": c.phone, "address": c.address(),
		"lat": c.lat, "lon": c.lon, "consent_same_day": c.consent}
}

// Expectations of a request.
const (
	expectOK = iota
	expectRefused
	expectEither // the README does not say; the oracle follows what happened
)

type request struct {
	method, path string
	body         any
}

type step struct {
	desc    string
	req     *request // nil: a step without a request (the clock)
	expect  int
	apply   func(a answer) // the facts after a 2xx answer (the oracle still holds those before)
	local   func()
	before  func() // done to the database just before the request
	days    []day  // the days it touches, for reconciling after a crash
	money   bool   // it can change money: a crash candidate
	batch   bool   // a batch (reconcile): a crash may fail part of it and say so in a 200
	noCheck bool
	hook    *hook // set when the write goes as a signed webhook delivery (send)
}

// hook is a step's write sent as the scheduler's signed webhook: its
// webhook-id, kept when the step is sent again after a crash (the
// scheduler's retry), and whether the delivery is replayed at once.
type hook struct {
	id, typ, externalID string
	replay              bool
}

// hookTypes are the writes a webhook can carry: the path they PUT, the
// event type.
var hookTypes = [][2]string{{"/api/v1/visits/", "visit.upserted"}, {"/api/v1/invoices/", "invoice.upserted"},
	{"/api/v1/customers/", "customer.upserted"}}

// asHook decides, the first time a step is sent, whether its write goes as
// a signed webhook delivery: a third of the visit, invoice and customer
// writes do, and a quarter of those are delivered twice.
func (r *run) asHook(st *step) *hook {
	if st.hook != nil || r.secret == "" || st.req.method != "PUT" {
		return st.hook
	}
	for _, t := range hookTypes {
		if id, ok := strings.CutPrefix(st.req.path, t[0]); ok && r.rng.IntN(3) == 0 {
			st.hook = &hook{id: fmt.Sprintf("wh-%d-%d", r.seed, r.next("webhook")), typ: t[1], externalID: id, replay: r.rng.IntN(4) == 0}
		}
	}
	return st.hook
}

func (r *run) logStep(st *step, a *answer, note string) {
	n := len(r.log) + 1
	s := fmt.Sprintf("%3d. %s", n, st.desc)
	if st.req != nil {
		body := ""
		if st.req.body != nil {
			b, _ := json.Marshal(st.req.body)
			body = " " + string(b)
		}
		s += fmt.Sprintf("\n       %s %s%s", st.req.method, st.req.path, body)
		if h := st.hook; h != nil {
			s += fmt.Sprintf("\n       (sent as a signed %s webhook, webhook-id %s", h.typ, h.id)
			if h.replay {
				s += ", delivered twice"
			}
			s += ")"
		}
		if a != nil {
			s += fmt.Sprintf("\n       → %d %s", a.status, short(a.raw))
		}
	}
	if note != "" {
		s += "\n       " + note
	}
	r.log = append(r.log, s)
}

func short(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// send sends a step's request, through the API or as a signed webhook
// (asHook).
func (r *run) send(st *step) answer {
	r.w.logs.take()
	if h := r.asHook(st); h != nil {
		return r.deliver(st, h)
	}
	return r.c.do(st.req.method, st.req.path, st.req.body)
}

// deliver sends a step's write as the scheduler's signed webhook. A
// delivery made twice must answer the same the second time, and change
// nothing more (the checks after the step). An applied delivery answers
// what it applied; the step then reads the object as the API answers it.
func (r *run) deliver(st *step, h *hook) answer {
	data := map[string]any{"external_id": h.externalID}
	for k, v := range st.req.body.(map[string]any) {
		data[k] = v
	}
	body, err := json.Marshal(map[string]any{"type": h.typ, "timestamp": r.w.clock.Now().UTC().Format(time.RFC3339), "data": data})
	if err != nil {
		r.fail("webhook body: %v", err)
	}
	a := r.c.hook(r.tenant, r.secret, h.id, r.w.clock.Now(), body)
	if !a.ok() {
		r.seen["write refused as a webhook"] = true
		return a
	}
	r.seen["write as a signed webhook"] = true
	if h.replay {
		again := r.c.hook(r.tenant, r.secret, h.id, r.w.clock.Now(), body)
		var first, second any
		if again.status != a.status || again.replay != "true" || a.decode(&first) != nil || again.decode(&second) != nil ||
			!reflect.DeepEqual(first, second) {
			r.fail("step %d: delivered again, webhook %s answered %d (replay %q) %s; the first time %d %s", len(r.log)+1, h.id,
				again.status, again.replay, short(again.raw), a.status, short(a.raw))
		}
		r.seen["webhook delivered twice"] = true
	}
	g := r.c.do("GET", st.req.path, nil)
	if !g.ok() {
		r.fail("step %d: webhook %s applied, but GET %s answers %d %s", len(r.log)+1, h.id, st.req.path, g.status, short(g.raw))
	}
	return answer{status: a.status, raw: g.raw}
}

// exec runs one step and checks everything after it.
func (r *run) exec(st *step) {
	if st.req == nil {
		st.local()
		r.logStep(st, nil, "")
		r.check()
		return
	}
	before := r.last
	if st.before != nil {
		st.before()
	}
	a := r.send(st)
	r.logStep(st, &a, "")
	r.judge(st, a)
	if a.ok() && st.apply != nil {
		st.apply(a)
	}
	if !a.ok() {
		r.seen["refused request"] = true
	}
	if st.noCheck {
		return
	}
	r.check()
	if !a.ok() {
		r.unchanged(before, "the refused request")
		r.checkFacts()
	}
}

// judge fails on a 5xx and on an answer the oracle did not expect.
func (r *run) judge(st *step, a answer) {
	n := len(r.log)
	if a.status >= 500 {
		r.halfSaved()
		r.fail("step %d answered %d: %s\nserver log:\n%s", n, a.status, short(a.raw), r.w.logs.take())
	}
	switch {
	case st.expect == expectOK && !a.ok():
		r.fail("step %d was refused (%d %s); the oracle expected it to succeed", n, a.status, short(a.raw))
	case st.expect == expectRefused && a.ok():
		r.fail("step %d succeeded (%d); the oracle expected it to be refused", n, a.status)
	}
}

// halfSaved, after a failed request, says what it left behind.
func (r *run) halfSaved() {
	defer func() { _ = recover() }()
	if diffs := r.factDiffs(); len(diffs) > 0 {
		r.log = append(r.log, "       left behind by the failed request: "+strings.Join(diffs, "; "))
	}
}

// unchanged fails unless the tenant's money looks exactly as before.
func (r *run) unchanged(before *observed, what string) {
	if before == nil || r.last == nil || before.raw == r.last.raw {
		return
	}
	r.fail("step %d: %s changed what routeloop shows:\n%s", len(r.log), what, lineDiff(before.raw, r.last.raw))
}

func lineDiff(a, b string) string {
	as, bs := strings.Split(a, "\n"), strings.Split(b, "\n")
	in := map[string]bool{}
	for _, s := range bs {
		in[s] = true
	}
	was := map[string]bool{}
	for _, s := range as {
		was[s] = true
	}
	var out []string
	for _, s := range as {
		if !in[s] {
			out = append(out, "  before: "+s)
		}
	}
	for _, s := range bs {
		if !was[s] {
			out = append(out, "  after:  "+s)
		}
	}
	return strings.Join(out, "\n")
}

// execCrash runs a step with a fault injected where the ledger starts its
// work, then restarts routeloop over the same database: the state must be
// the oracle's without the step (nothing half-saved); sent again, it must
// be the oracle's with it; reconciling the days it touched changes nothing.
func (r *run) execCrash(st *step) {
	var calls atomic.Int32
	crash := func(point string) error {
		if point == ledger.PointRefresh {
			calls.Add(1)
			return errors.New("injected crash")
		}
		return nil
	}
	ledger.FaultHook.Store(&crash)
	before := r.last
	a := r.send(st)
	ledger.FaultHook.Store(nil)
	if calls.Load() == 0 {
		r.logStep(st, &a, "(crash planned here: the request never reached the ledger)")
		r.seen["crash planned, ledger not reached"] = true
		r.judge(st, a)
		if a.ok() && st.apply != nil {
			st.apply(a)
		}
		r.check()
		if !a.ok() {
			r.unchanged(before, "the refused request")
		}
		return
	}
	r.logStep(st, &a, "(crashed at the ledger's refresh; routeloop restarted)")
	r.seen["crash and restart"] = true
	if st.hook != nil {
		r.seen["webhook crashed, delivered again with its id"] = true
	}
	if a.status >= 200 && a.status < 300 && !st.batch {
		r.fail("step %d: the write succeeded although the ledger failed inside it", len(r.log))
	}
	r.w.logs.take()
	r.w.app = r.w.wire()
	r.c.setHandler(r.w.app.HTTP)
	r.check()
	r.unchanged(before, "the crashed request")
	if diffs := r.factDiffs(); len(diffs) > 0 {
		r.fail("step %d: the crashed request left facts behind: %s", len(r.log), strings.Join(diffs, "; "))
	}
	again := *st
	again.desc = "again: " + st.desc
	r.exec(&again)
	days := st.days
	if len(days) == 0 {
		for _, v := range r.o.visits {
			days = append(days, v.date)
		}
	}
	seen := map[day]bool{}
	snapshot := r.last
	for _, d := range days {
		if seen[d] {
			continue
		}
		seen[d] = true
		rec := &step{desc: "reconcile after the restart " + d.String(), req: &request{"POST", "/api/v1/reconcile", map[string]any{"date": d.String()}},
			expect: expectOK, noCheck: true}
		ra := r.send(rec)
		r.logStep(rec, &ra, "")
		r.judge(rec, ra)
	}
	r.check()
	r.unchanged(snapshot, "reconciling the touched days")
}

func (r *run) customerIDs() []string {
	ids := make([]string, len(r.o.customers))
	for i, c := range r.o.customers {
		ids[i] = c.id
	}
	return ids
}

// check compares what routeloop shows with the oracle, and checks the
// invariants on what it shows.
func (r *run) check() {
	var problems []string
	failf := func(f string, args ...any) { problems = append(problems, fmt.Sprintf(f, args...)) }
	ob := observe(r.c, r.customerIDs(), r.ledger, failf)
	if len(problems) > 0 && r.ledger && r.legacy && strings.Contains(strings.Join(problems, ""), "/ledger: 404") {
		r.ledger, problems = false, nil // the code before the ledger: no read-back
		ob = observe(r.c, r.customerIDs(), false, failf)
	}
	if len(problems) > 0 {
		r.fail("step %d: reading the state back failed: %s", len(r.log), strings.Join(problems, "; "))
	}
	r.last = ob
	x := r.o.expect()
	r.lastX = x
	r.note(x)
	var diffs []string
	for _, inv := range r.o.invoices {
		got, ok := ob.invoices[inv.id]
		if !ok {
			diffs = append(diffs, inv.id+": not stored")
			continue
		}
		if view, frozen := r.views[inv.id]; frozen {
			if got.frozenView() != view {
				diffs = append(diffs, fmt.Sprintf("%s was issued and changed:\n    then %s\n    now  %s", inv.id, view, got.frozenView()))
			}
			if got.Status != inv.status {
				diffs = append(diffs, fmt.Sprintf("%s: status %s, oracle %s", inv.id, got.Status, inv.status))
			}
			continue
		}
		if inv.status == stVoid { // voided while a draft: what it gave no longer counts
			if got.Status != stVoid {
				diffs = append(diffs, fmt.Sprintf("%s: status %s, oracle void", inv.id, got.Status))
			}
			continue
		}
		diffs = append(diffs, compareInvoice(x.invoices[inv.id], got)...)
	}
	if len(ob.invoices) != len(r.o.invoices) {
		diffs = append(diffs, fmt.Sprintf("%d invoices stored, the oracle knows %d", len(ob.invoices), len(r.o.invoices)))
	}
	if r.ledger {
		for _, c := range r.o.customers {
			diffs = append(diffs, compareLedger(x.ledgers[c.id], ob.ledgers[c.id])...)
		}
		diffs = append(diffs, invariants(ob, func(id string) int {
			if inv := r.o.invoice(id); inv != nil {
				return r.o.termsOf(inv).max
			}
			return r.o.prog.max
		}, func(id int64) (int64, bool, bool) {
			for _, rw := range r.o.rewards {
				if rw.id == id {
					return rw.value, rw.kind == rwAddon, true
				}
			}
			return 0, false, false
		})...)
	} else {
		diffs = append(diffs, invariants(ob, func(id string) int {
			if inv := r.o.invoice(id); inv != nil {
				return r.o.termsOf(inv).max
			}
			return r.o.prog.max
		}, func(int64) (int64, bool, bool) { return 0, false, false })...)
	}
	diffs = append(diffs, r.linkDiffs(ob)...)
	if len(diffs) > 0 {
		r.fail("after step %d routeloop and the oracle disagree:\n  %s\n%s", len(r.log), strings.Join(diffs, "\n  "), r.explain(x))
	}
}

// note records which situations the sequence has met (a coverage report).
func (r *run) note(x *expectation) {
	for _, xi := range x.invoices {
		for _, l := range xi.lines {
			switch {
			case l.kind == kSync && xi.inv.status == stDraft:
				r.seen["sync discount on a draft"] = true
			case l.kind == kSync:
				r.seen["sync discount issued"] = true
			case l.corrects != "":
				r.seen["late credit placed"] = true
			case l.kind == kReward:
				r.seen["percent reward line"] = true
			case l.kind == kCredit:
				r.seen["reward credit line"] = true
			case l.kind == kAddon:
				r.seen["free add-on line"] = true
			}
		}
		if xi.inv.status == stDraft {
			for _, li := range xi.inv.lines {
				if v := r.o.visit(li.visit); v != nil && v.customer != xi.inv.customer {
					r.seen["draft billing a moved visit"] = true
				}
			}
		}
		if xi.inv.status == stVoid && xi.inv.issued {
			r.seen["voided after issue"] = true
		}
	}
	for _, lg := range x.ledgers {
		for _, it := range lg.items {
			switch {
			case it.inError > 0:
				r.seen["given in error"] = true
			case it.kind == kSync && it.pending > 0:
				r.seen["late credit pending"] = true
			case it.kind != kSync && it.pending > 0 && it.given > 0:
				r.seen["reward partly given"] = true
			case it.kind != kSync && it.pending > 0:
				r.seen["reward pending"] = true
			}
		}
	}
	if len(r.o.rewards) > 0 {
		r.seen["conversion"] = true
	}
}

// explain prints the oracle's view, for the failure report.
func (r *run) explain(x *expectation) string {
	var b strings.Builder
	b.WriteString("oracle: today " + r.o.today.String() + fmt.Sprintf(", program sync %d max %d same crew %v radius %d\n",
		r.o.prog.sync, r.o.prog.max, r.o.prog.sameCrew, r.o.prog.radius))
	for _, l := range r.o.links {
		end := "open"
		if l.ended {
			end = "ends " + l.ends.String()
		}
		fmt.Fprintf(&b, "  link %d %s–%s %d m from %s, %s\n", l.id, l.a, l.b, l.dist, l.starts, end)
	}
	for _, v := range r.o.visits {
		fmt.Fprintf(&b, "  visit %s of %s, %s, %s, %s, %d\n", v.id, v.customer, v.crew, v.date, v.status, v.price)
	}
	for _, inv := range r.o.invoices {
		xi := x.invoices[inv.id]
		fmt.Fprintf(&b, "  invoice %s of %s, %s %v: lines %v computed %v → %d − %d = %d\n", inv.id, inv.customer, inv.status,
			inv.terms, inv.lines, xi.lines, xi.subtotal, xi.discount, xi.total)
	}
	for _, rw := range r.o.rewards {
		fmt.Fprintf(&b, "  reward %d of %s (%s, referral %d): %s worth %d\n", rw.id, rw.customer, rw.role, rw.referral, rw.kind, rw.value)
	}
	return b.String()
}

// linkDiffs compares the links routeloop keeps with the oracle's.
func (r *run) linkDiffs(ob *observed) []string {
	var diffs []string
	for _, l := range r.o.links {
		got, ok := ob.links[l.id]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("link %d is not stored", l.id))
			continue
		}
		ends := ""
		if got.EndsOn != nil {
			ends = *got.EndsOn
		}
		want := ""
		if l.ended {
			want = l.ends.String()
		}
		if ends != want || got.StartsOn != l.starts.String() {
			diffs = append(diffs, fmt.Sprintf("link %d (%s–%s) runs %s to %q, oracle %s to %q", l.id, l.a, l.b, got.StartsOn, ends, l.starts, want))
		}
	}
	if len(ob.links) != len(r.o.links) {
		var ids []int64
		for id := range ob.links {
			if r.o.link(id) == nil {
				ids = append(ids, id)
			}
		}
		diffs = append(diffs, fmt.Sprintf("%d links stored, the oracle knows %d (unknown: %v)", len(ob.links), len(r.o.links), ids))
	}
	return diffs
}

// factDiffs compares the stored visits and customers with the oracle's.
func (r *run) factDiffs() []string {
	var diffs []string
	var problems []string
	failf := func(f string, args ...any) { problems = append(problems, fmt.Sprintf(f, args...)) }
	visits := listAll[apiVisit](r.c, "/api/v1/visits", "visits", failf)
	customers := listAll[apiCustomer](r.c, "/api/v1/customers", "customers", failf)
	if len(problems) > 0 {
		return problems
	}
	byID := map[string]apiVisit{}
	for _, v := range visits {
		byID[v.ExternalID] = v
	}
	for _, v := range r.o.visits {
		got, ok := byID[v.id]
		crew := ""
		if ok && got.CrewID != nil {
			crew = *got.CrewID
		}
		if !ok || got.CustomerID != v.customer || crew != v.crew || got.ServiceDate != v.date.String() || got.Status != v.status || got.PriceCents != v.price {
			diffs = append(diffs, fmt.Sprintf("visit %s stored as %s %s %s %s %d, oracle %s %s %s %s %d", v.id, got.CustomerID, crew, got.ServiceDate,
				got.Status, got.PriceCents, v.customer, v.crew, v.date, v.status, v.price))
		}
		delete(byID, v.id)
	}
	for id := range byID {
		diffs = append(diffs, "visit "+id+" is stored but unknown to the oracle")
	}
	cs := map[string]apiCustomer{}
	for _, c := range customers {
		cs[c.ExternalID] = c
	}
	for _, c := range r.o.customers {
		got, ok := cs[c.id]
		if !ok || got.ConsentSameDay != c.consent || got.Address != c.address() || got.Lat == nil || *got.Lat != c.lat || *got.Lon != c.lon {
			var lat, lon float64
			if got.Lat != nil && got.Lon != nil {
				lat, lon = *got.Lat, *got.Lon
			}
			diffs = append(diffs, fmt.Sprintf("customer %s stored as %s %.6f %.6f consent %v, oracle %s %.6f %.6f consent %v", c.id,
				got.Address, lat, lon, got.ConsentSameDay, c.address(), c.lat, c.lon, c.consent))
		}
		delete(cs, c.id)
	}
	for id := range cs {
		diffs = append(diffs, "customer "+id+" is stored but unknown to the oracle")
	}
	refs := map[int64]string{}
	for _, ref := range listAll[apiReferral](r.c, "/api/v1/referrals", "referrals", failf) {
		refs[ref.ID] = ref.Status
	}
	for _, ref := range r.o.referrals {
		if refs[ref.id] != ref.state {
			diffs = append(diffs, fmt.Sprintf("referral %d is %q, oracle %s", ref.id, refs[ref.id], ref.state))
		}
		delete(refs, ref.id)
	}
	for id := range refs {
		diffs = append(diffs, fmt.Sprintf("referral %d is stored but unknown to the oracle", id))
	}
	return append(diffs, problems...)
}

func (r *run) checkFacts() {
	if diffs := r.factDiffs(); len(diffs) > 0 {
		r.fail("at the end the stored facts differ from the oracle's: %s", strings.Join(diffs, "; "))
	}
}

// ---- choosing the next event ----

type choice struct {
	weight int
	make   func() *step
}

func (r *run) pick() *step {
	o := r.o
	var drafts, issued, settledOrVoid, nonVoid []*oInvoice
	for _, inv := range o.invoices {
		switch inv.status {
		case stDraft:
			drafts = append(drafts, inv)
			nonVoid = append(nonVoid, inv)
		case stIssued:
			issued = append(issued, inv)
			nonVoid = append(nonVoid, inv)
			settledOrVoid = append(settledOrVoid, inv)
		case stPaid:
			nonVoid = append(nonVoid, inv)
			settledOrVoid = append(settledOrVoid, inv)
		case stVoid:
			settledOrVoid = append(settledOrVoid, inv)
		}
	}
	openLinks := 0
	for _, l := range o.links {
		if !l.ended {
			openLinks++
		}
	}
	unbilled := r.unbilledCustomers()
	waiting, signedUp := r.waiting(), r.signedUp()
	cs := []choice{
		{8 + 14*b2i(len(o.visits) < 4) + 12*b2i(len(signedUp) > 0), func() *step { return r.genVisitCreate(signedUp) }},
		{10 * b2i(len(o.visits) > 0), r.genVisitUpdate},
		{2 * b2i(len(o.visits) > 0), r.genVisitMoveCustomer},
		{4 + 14*b2i(openLinks < 2), r.genLinkCreate},
		{2 * b2i(len(o.links) > 0), r.genLinkEnd},
		{2, r.genConsent},
		{2, r.genCustomerMove},
		{3, r.genProgram},
		{4 + 10*b2i(len(unbilled) > 0) + 6*b2i(r.lateCreditPending()), r.genInvoiceDraft},
		{2 * b2i(len(drafts) > 0), func() *step { return r.genInvoiceReplace(drafts) }},
		{10 * b2i(len(drafts) > 0), func() *step { return r.genInvoiceIssue(drafts) }},
		{3 * b2i(len(issued) > 0 || len(drafts) > 0), func() *step { return r.genInvoicePay(issued, drafts) }},
		{3 * b2i(len(nonVoid) > 0), func() *step { return r.genInvoiceVoid(nonVoid) }},
		{1 * b2i(len(settledOrVoid) > 0), func() *step { return r.genInvoiceRefused(settledOrVoid) }},
		{1, r.genMirrorRefused},
		{9 * b2i(len(issued) > 0), r.genNeighbourJoins},
		{5, r.genReferral},
		{12 * b2i(len(waiting) > 0), func() *step { return r.genFriendSignUp(waiting) }},
		{1, r.genReconcile},
		{1, r.genLostDiscounts},
		{2, r.genAdvance},
	}
	total := 0
	for _, c := range cs {
		total += c.weight
	}
	for {
		n := r.rng.IntN(total)
		for _, c := range cs {
			if n < c.weight {
				if st := c.make(); st != nil {
					return st
				}
				break
			}
			n -= c.weight
		}
	}
}

// lateCreditPending reports whether a late credit waits for a draft.
func (r *run) lateCreditPending() bool {
	if r.lastX == nil {
		return false
	}
	for _, lg := range r.lastX.ledgers {
		for _, it := range lg.items {
			if it.kind == kSync && it.pending > 0 {
				return true
			}
		}
	}
	return false
}

// waiting are the referrals whose friend is not a customer yet.
func (r *run) waiting() []*oReferral {
	var out []*oReferral
	for _, ref := range r.o.referrals {
		if ref.state == "pending" && ref.friend == "" {
			out = append(out, ref)
		}
	}
	return out
}

// signedUp are the referrals whose friend is a customer not served yet.
func (r *run) signedUp() []*oReferral {
	var out []*oReferral
	for _, ref := range r.o.referrals {
		if ref.state == "pending" && ref.friend != "" {
			out = append(out, ref)
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *run) price() int64 {
	if r.legacy { // whole dollars: the old code's rounding of a subtotal then agrees with the README's per line
		return int64(10+r.rng.IntN(81)) * 100
	}
	return int64(1000 + r.rng.IntN(8001))
}

func (r *run) anyCustomer() *oCustomer { return r.o.customers[r.rng.IntN(len(r.o.customers))] }

// linkedCustomer is most often one with an open link.
func (r *run) linkedCustomer() *oCustomer {
	var linked []*oCustomer
	for _, c := range r.o.customers {
		for _, l := range r.o.links {
			if !l.ended && (l.a == c.id || l.b == c.id) {
				linked = append(linked, c)
				break
			}
		}
	}
	if len(linked) > 0 && r.rng.IntN(10) < 7 {
		return linked[r.rng.IntN(len(linked))]
	}
	return r.anyCustomer()
}

// pendingFriend reports whether a customer is a friend whose referral has
// not converted yet (the model does not move visits to them: a moved
// completed visit would be a conversion the README does not describe).
func (r *run) pendingFriend(id string) bool {
	for _, ref := range r.o.referrals {
		if ref.friend == id && ref.state == "pending" {
			return true
		}
	}
	return false
}

// date picks a day within ten days of today, often one on which a linked
// neighbour of the customer has a visit.
func (r *run) date(customer string) day {
	if r.rng.IntN(10) < 6 {
		var days []day
		for _, l := range r.o.links {
			if l.a != customer && l.b != customer {
				continue
			}
			other := l.other(customer)
			for _, v := range r.o.visits {
				if v.customer == other && v.date >= r.o.today-10 && v.date <= r.o.today+10 {
					days = append(days, v.date)
				}
			}
		}
		if len(days) > 0 {
			return days[r.rng.IntN(len(days))]
		}
	}
	if r.rng.IntN(10) < 8 {
		if r.rng.IntN(6) == 0 {
			return r.routeDays[3] // the one in the past
		}
		return r.routeDays[r.rng.IntN(3)]
	}
	return r.o.today + day(r.rng.IntN(21)-10)
}

func (r *run) crew() string { return []string{"crew-a", "crew-b"}[r.rng.IntN(2)] }

// crewOn is most often the crew whose route the day is.
func (r *run) crewOn(d day) string {
	if r.rng.IntN(4) > 0 {
		return []string{"crew-a", "crew-b"}[int(d)%2]
	}
	return r.crew()
}

func visitBody(v *oVisit) map[string]any {
	return map[string]any{"customer_id": v.customer, "crew_id": v.crew, "service_date": v.date.String(), "status": v.status, "price_cents": v.price}
}

func (r *run) genVisitCreate(signedUp []*oReferral) *step {
	v := &oVisit{id: fmt.Sprintf("v%03d", r.next("visit")), price: r.price()}
	v.seq = len(r.o.visits)
	var friendOf *oReferral
	if len(signedUp) > 0 && r.rng.IntN(3) > 0 {
		friendOf = signedUp[r.rng.IntN(len(signedUp))]
		v.customer, v.status = friendOf.friend, vCompleted // the friend's first visit: the referral converts
	} else {
		v.customer = r.linkedCustomer().id
		v.status = []string{vScheduled, vScheduled, vScheduled, vScheduled, vScheduled, vScheduled, vScheduled, vCompleted, vCompleted, vCancelled}[r.rng.IntN(10)]
	}
	v.date = r.date(v.customer)
	if friendOf != nil && v.date < friendOf.made {
		// Serviced before they were referred, they were a customer
		// already (the engine flags that): the model's friends are new.
		v.date = friendOf.made + day(r.rng.IntN(8))
	}
	v.crew = r.crewOn(v.date)
	return &step{desc: fmt.Sprintf("new visit %s of %s on %s (%s, %s)", v.id, v.customer, v.date, v.crew, v.status),
		req: &request{"PUT", "/api/v1/visits/" + v.id, visitBody(v)}, expect: expectOK, money: true, days: []day{v.date},
		apply: func(answer) {
			r.o.visits = append(r.o.visits, v)
			r.afterVisit(v, "")
		}}
}

// genNeighbourJoins books a linked neighbour on the day of a visit that an
// issued invoice bills without a sync discount: a late discount.
func (r *run) genNeighbourJoins() *step {
	type cand struct {
		v     *oVisit
		other string
	}
	var cs []cand
	for _, inv := range r.o.invoices {
		if !settled(inv.status) {
			continue
		}
		for _, li := range inv.lines {
			v := r.o.visit(li.visit)
			if v == nil || v.customer != inv.customer || v.status == vCancelled || len(r.o.syncedWith(v, inv.terms.sameCrew)) > 0 {
				continue
			}
			for _, l := range r.o.links {
				if (l.a == v.customer || l.b == v.customer) && l.activeOn(v.date) && !r.pendingFriend(l.other(v.customer)) {
					cs = append(cs, cand{v, l.other(v.customer)})
				}
			}
		}
	}
	if len(cs) == 0 {
		r.seen["(no neighbour to join)"] = true
		return nil
	}
	r.seen["(neighbour joins)"] = true
	c := cs[r.rng.IntN(len(cs))]
	v := &oVisit{id: fmt.Sprintf("v%03d", r.next("visit")), seq: len(r.o.visits), customer: c.other, crew: c.v.crew, date: c.v.date,
		status: vScheduled, price: r.price()}
	return &step{desc: fmt.Sprintf("new visit %s of %s on %s (%s), the day of %s's issued visit %s", v.id, v.customer, v.date, v.crew, c.v.customer, c.v.id),
		req: &request{"PUT", "/api/v1/visits/" + v.id, visitBody(v)}, expect: expectOK, money: true, days: []day{v.date},
		apply: func(answer) { r.o.visits = append(r.o.visits, v) }}
}

func (r *run) genVisitUpdate() *step {
	old := r.o.visits[r.rng.IntN(len(r.o.visits))]
	v := *old
	var what string
	switch r.rng.IntN(8) {
	case 0, 1:
		v.date = r.date(v.customer)
		if v.date == old.date {
			v.date = old.date + 1
		}
		if r.rng.IntN(2) == 0 {
			v.crew = r.crewOn(v.date)
		}
		what = fmt.Sprintf("moves to %s (%s)", v.date, v.crew)
	case 2:
		v.crew = map[string]string{"crew-a": "crew-b", "crew-b": "crew-a"}[v.crew]
		what = "goes to " + v.crew
	case 3, 4:
		v.status, what = vCancelled, "is cancelled"
	case 5, 6:
		v.status, what = vCompleted, "is completed"
	case 7:
		v.status, v.price, what = vScheduled, r.price(), "is scheduled again"
	}
	return &step{desc: fmt.Sprintf("visit %s of %s %s", v.id, v.customer, what),
		req: &request{"PUT", "/api/v1/visits/" + v.id, visitBody(&v)}, expect: expectOK, money: true, days: []day{old.date, v.date},
		apply: func(answer) {
			was := old.status
			*old = v
			r.afterVisit(old, was)
		}}
}

func (r *run) genVisitMoveCustomer() *step {
	old := r.o.visits[r.rng.IntN(len(r.o.visits))]
	var to []string
	for _, c := range r.o.customers {
		if c.id != old.customer && !r.pendingFriend(c.id) {
			to = append(to, c.id)
		}
	}
	if len(to) == 0 {
		return nil
	}
	v := *old
	v.customer = to[r.rng.IntN(len(to))]
	return &step{desc: fmt.Sprintf("visit %s moves from %s to customer %s", v.id, old.customer, v.customer),
		req: &request{"PUT", "/api/v1/visits/" + v.id, visitBody(&v)}, expect: expectOK, money: true, days: []day{v.date},
		apply: func(answer) { *old = v }}
}

// afterVisit converts a friend's referral on their first completed visit.
func (r *run) afterVisit(v *oVisit, was string) {
	if v.status != vCompleted || was == vCompleted {
		return
	}
	for _, ref := range r.o.referrals {
		if ref.friend == v.customer && ref.state == "pending" {
			if r.servicedBefore(ref) {
				// Serviced before they were referred: an existing customer,
				// flagged for a person to decide (internal/referral).
				ref.state = "pending_review"
				continue
			}
			r.convert(ref)
		}
	}
}

// servicedBefore reports whether the friend has a visit completed on a day
// before the referral was made.
func (r *run) servicedBefore(ref *oReferral) bool {
	for _, v := range r.o.visits {
		if v.customer == ref.friend && v.status == vCompleted && v.date < ref.made {
			return true
		}
	}
	return false
}

// convert is what a conversion does (internal/referral/convert.go): both
// rewards granted once, and the two linked when both agreed to same-day
// service and live within the radius. The reward ids and the link's id
// and distance are read back: they are facts, not money.
func (r *run) convert(ref *oReferral) {
	o := r.o
	ref.state = "converted"
	offer, ok := o.prog.offer(ref.variant)
	if !ok {
		r.fail("referral %d: the oracle has no offer %s", ref.id, ref.variant)
	}
	for _, side := range []struct {
		role, customer string
		spec           oRewardSpec
	}{{"referrer", ref.referrer, offer.referrer}, {"referee", ref.friend, offer.referee}} {
		var got struct {
			Rewards []apiReward `json:"rewards"`
		}
		a := r.c.do("GET", "/api/v1/rewards?customer_id="+side.customer, nil)
		if a.status != 200 || a.decode(&got) != nil {
			r.fail("GET rewards of %s: %d %s", side.customer, a.status, short(a.raw))
		}
		var found *apiReward
		for i, rw := range got.Rewards {
			if rw.ReferralID == ref.id && rw.Role == side.role {
				found = &got.Rewards[i]
			}
		}
		value := o.rewardValue(side.customer, side.spec)
		if found == nil || found.Status != "granted" || found.Kind != side.spec.kind {
			r.fail("referral %d converted: the %s %s should have a granted %s reward worth %d; rewards: %s", ref.id, side.role,
				side.customer, side.spec.kind, value, short(a.raw))
		}
		if found.ValueCents != value {
			r.fail("referral %d: the %s's %s reward is worth %d, the oracle says %d", ref.id, side.role, side.spec.kind, found.ValueCents, value)
		}
		o.rewards = append(o.rewards, &oReward{id: found.ID, customer: side.customer, referral: ref.id, role: side.role,
			kind: side.spec.kind, bps: side.spec.bps, value: value, addon: side.spec.addon})
	}
	a, b := o.customer(ref.referrer), o.customer(ref.friend)
	if o.eligible(a, b) && o.openLink(a.id, b.id) == nil {
		links := listAll[apiLink](r.c, "/api/v1/neighbor-links?customer_id="+b.id, "neighbor_links", r.fail)
		for _, l := range links {
			if l.EndsOn == nil && ((l.CustomerA == a.id && l.CustomerB == b.id) || (l.CustomerA == b.id && l.CustomerB == a.id)) {
				o.links = append(o.links, &oLink{id: l.ID, a: l.CustomerA, b: l.CustomerB, dist: l.DistanceM, starts: o.today})
				return
			}
		}
		r.fail("referral %d converted: %s and %s live %.0f m apart and agreed to same-day service, but no link was made", ref.id, a.id, b.id, o.distance(a, b))
	}
}

func (r *run) genLinkCreate() *step {
	o := r.o
	var pairs [][2]*oCustomer
	for i, a := range o.customers {
		for _, b := range o.customers[i+1:] {
			if o.eligible(a, b) && o.openLink(a.id, b.id) == nil {
				pairs = append(pairs, [2]*oCustomer{a, b})
			}
		}
	}
	var a, b *oCustomer
	if len(pairs) > 0 && r.rng.IntN(10) < 7 {
		p := pairs[r.rng.IntN(len(pairs))]
		a, b = p[0], p[1]
	} else {
		a, b = r.anyCustomer(), r.anyCustomer()
		if a == b {
			return nil
		}
	}
	if r.rng.IntN(2) == 0 {
		a, b = b, a
	}
	open := o.openLink(a.id, b.id)
	expect := expectRefused
	if open != nil || o.eligible(a, b) {
		expect = expectOK
	}
	return &step{desc: fmt.Sprintf("link %s and %s (%.0f m)", a.id, b.id, o.distance(a, b)),
		req: &request{"POST", "/api/v1/neighbor-links", map[string]any{"customer_a": a.id, "customer_b": b.id}}, expect: expect, money: true,
		apply: func(ans answer) {
			var l apiLink
			if err := ans.decode(&l); err != nil {
				r.fail("decode link: %v", err)
			}
			if open != nil {
				if ans.status != 200 || l.ID != open.id {
					r.fail("linking %s and %s again answered %d with link %d; the open link is %d", a.id, b.id, ans.status, l.ID, open.id)
				}
				return
			}
			if ans.status != 201 || l.StartsOn != o.today.String() || l.EndsOn != nil {
				r.fail("a new link should be 201, open, from today %s: %d %s", o.today, ans.status, short(ans.raw))
			}
			o.links = append(o.links, &oLink{id: l.ID, a: l.CustomerA, b: l.CustomerB, dist: l.DistanceM, starts: o.today})
		}}
}

func (r *run) genLinkEnd() *step {
	var open []*oLink
	for _, l := range r.o.links {
		if !l.ended {
			open = append(open, l)
		}
	}
	l := r.o.links[r.rng.IntN(len(r.o.links))]
	if len(open) > 0 && r.rng.IntN(5) > 0 {
		l = open[r.rng.IntN(len(open))]
	}
	return &step{desc: fmt.Sprintf("a dispatcher ends link %d (%s–%s)", l.id, l.a, l.b),
		req: &request{"DELETE", fmt.Sprintf("/api/v1/neighbor-links/%d", l.id), nil}, expect: expectOK, money: true,
		apply: func(answer) { r.o.endLink(l) }}
}

func (r *run) genConsent() *step {
	c := r.anyCustomer()
	n := *c
	n.consent = !c.consent
	what := "withdraws consent to same-day service"
	if n.consent {
		what = "agrees to same-day service again"
	}
	return &step{desc: c.id + " " + what, req: &request{"PUT", "/api/v1/customers/" + c.id, customerBody(&n)}, expect: expectOK, money: true,
		apply: func(answer) {
			c.consent = n.consent
			r.o.customerChanged(c)
		}}
}

func (r *run) genCustomerMove() *step {
	c := r.anyCustomer()
	n := *c
	far := r.rng.IntN(10) < 3
	r.place(&n, far)
	k := r.next("street")
	n.street = fmt.Sprintf("%d %s", 10+4*k, streetName[k%len(streetName)])
	where := "within the neighbourhood"
	if far {
		where = "across town"
	}
	return &step{desc: fmt.Sprintf("%s moves %s to %s", c.id, where, n.street),
		req: &request{"PUT", "/api/v1/customers/" + c.id, customerBody(&n)}, expect: expectOK, money: true,
		apply: func(answer) {
			c.lat, c.lon, c.street = n.lat, n.lon, n.street
			c.streets = append(c.streets, n.street)
			r.o.customerChanged(c)
			r.refreshDistances(c.id)
		}}
}

// refreshDistances reads the new distance of a customer's open links.
func (r *run) refreshDistances(customer string) {
	for _, l := range listAll[apiLink](r.c, "/api/v1/neighbor-links?customer_id="+customer, "neighbor_links", r.fail) {
		if ol := r.o.link(l.ID); ol != nil && !ol.ended {
			ol.dist = l.DistanceM
		}
	}
}

func (r *run) genProgram() *step {
	o := r.o
	next := o.prog
	body := map[string]any{}
	if !r.legacy { // the old code prices issued invoices with the current program: the README freezes their terms
		if r.rng.IntN(2) == 0 {
			next.sync = []int{0, 500, 1000, 1250, 1500, 2000}[r.rng.IntN(6)]
			body["sync_discount_bps"] = next.sync
		}
		if r.rng.IntN(2) == 0 {
			next.max = []int{1000, 1500, 2000, 2500, 3000}[r.rng.IntN(5)]
			body["max_discount_bps"] = next.max
		}
		if r.rng.IntN(3) == 0 {
			next.sameCrew = !next.sameCrew
			body["sync_requires_same_crew"] = next.sameCrew
		}
	}
	if len(body) == 0 || r.rng.IntN(3) == 0 {
		next.radius = radii[r.rng.IntN(len(radii))]
		body["neighbor_radius_m"] = next.radius
	}
	expect := expectOK
	if next.max < next.sync {
		expect = expectRefused
	}
	b, _ := json.Marshal(body)
	return &step{desc: "the program changes: " + string(b), req: &request{"PUT", "/api/v1/program", body}, expect: expect, money: true,
		apply: func(answer) {
			old := o.prog.radius
			o.prog.terms, o.prog.radius = next.terms, next.radius
			o.radiusChanged(old)
		}}
}

// billedOn returns the non-void invoice billing a visit, if any.
func (r *run) billedOn(visit string) *oInvoice {
	for _, inv := range r.o.invoices {
		if inv.status == stVoid {
			continue
		}
		for _, l := range inv.lines {
			if l.visit == visit {
				return inv
			}
		}
	}
	return nil
}

func (r *run) unbilledCustomers() []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range r.o.visits {
		if !seen[v.customer] && r.billedOn(v.id) == nil {
			seen[v.customer] = true
			out = append(out, v.customer)
		}
	}
	return out
}

// lines bills some of the customer's visits that no other invoice bills.
func (r *run) lines(customer string, self *oInvoice) []oLineIn {
	var can []*oVisit
	for _, v := range r.o.visits {
		if on := r.billedOn(v.id); v.customer == customer && (on == nil || on == self) {
			can = append(can, v)
		}
	}
	r.rng.Shuffle(len(can), func(i, j int) { can[i], can[j] = can[j], can[i] })
	can = can[:min(len(can), 1+r.rng.IntN(3))]
	sort.Slice(can, func(i, j int) bool { return can[i].seq < can[j].seq })
	var out []oLineIn
	for _, v := range can {
		amt := v.price
		if r.rng.IntN(3) == 0 {
			amt = r.price()
		}
		out = append(out, oLineIn{visit: v.id, desc: "Service visit " + v.id, amount: amt})
	}
	if !r.legacy && ((len(out) == 0 && r.rng.IntN(4) == 0) || r.rng.IntN(6) == 0) { // a line that names no visit
		out = append(out, oLineIn{desc: "Hedge trimming", amount: int64(300 + r.rng.IntN(2000))})
	}
	return out
}

func invoiceBody(inv *oInvoice, status string, lines []oLineIn) map[string]any {
	ls := []any{}
	for _, l := range lines {
		m := map[string]any{"description": l.desc, "amount_cents": l.amount}
		if l.visit != "" {
			m["visit_id"] = l.visit
		}
		ls = append(ls, m)
	}
	return map[string]any{"customer_id": inv.customer, "status": status, "lines": ls}
}

func (r *run) genInvoiceDraft() *step {
	cs := r.unbilledCustomers()
	var synced []string
	for _, v := range r.o.visits {
		if r.billedOn(v.id) == nil && len(r.o.syncedWith(v, r.o.prog.sameCrew)) > 0 {
			synced = append(synced, v.customer)
		}
	}
	var owed, late []string // customers with something pending (a late credit): a new draft gets it
	if r.lastX != nil {
		for _, c := range r.o.customers {
			lg := r.lastX.ledgers[c.id]
			if lg == nil || lg.pending == 0 {
				continue
			}
			owed = append(owed, c.id)
			for _, it := range lg.items {
				if it.kind == kSync && it.pending > 0 {
					late = append(late, c.id)
					break
				}
			}
		}
	}
	switch {
	case len(late) > 0 && r.rng.IntN(5) < 3:
		cs = late
	case len(owed) > 0 && r.rng.IntN(2) == 0:
		cs = owed
	case len(synced) > 0 && r.rng.IntN(2) == 0:
		cs = synced
	}
	var customer string
	if len(cs) > 0 && r.rng.IntN(5) > 0 {
		customer = cs[r.rng.IntN(len(cs))]
	} else {
		customer = r.anyCustomer().id
	}
	inv := &oInvoice{id: fmt.Sprintf("inv%03d", r.next("invoice")), seq: len(r.o.invoices), customer: customer, status: stDraft}
	ls := r.lines(customer, nil)
	if len(ls) == 0 {
		return nil
	}
	return &step{desc: fmt.Sprintf("draft %s for %s", inv.id, customer), req: &request{"PUT", "/api/v1/invoices/" + inv.id, invoiceBody(inv, stDraft, ls)},
		expect: expectOK, money: true, apply: func(answer) {
			inv.lines = ls
			r.o.invoices = append(r.o.invoices, inv)
		}}
}

func (r *run) genInvoiceReplace(drafts []*oInvoice) *step {
	inv := drafts[r.rng.IntN(len(drafts))]
	ls := r.lines(inv.customer, inv)
	if len(ls) == 0 {
		return nil
	}
	return &step{desc: fmt.Sprintf("draft %s of %s gets new lines", inv.id, inv.customer), req: &request{"PUT", "/api/v1/invoices/" + inv.id, invoiceBody(inv, stDraft, ls)},
		expect: expectOK, money: true, apply: func(answer) { inv.lines = ls }}
}

// movedAway reports whether an invoice bills a visit that now belongs to
// another customer: the README does not say whether it may then still move
// on in its life, so the oracle follows what routeloop answers.
func (r *run) movedAway(inv *oInvoice) bool {
	for _, l := range inv.lines {
		if v := r.o.visit(l.visit); v != nil && v.customer != inv.customer {
			return true
		}
	}
	return false
}

// leaveDraft freezes the draft's computed lines (the oracle's, which the
// last check found equal to the stored ones) and the terms in force.
func (r *run) leaveDraft(inv *oInvoice, status string, a answer) {
	x := r.o.expect()
	inv.frozen = x.invoices[inv.id].lines
	inv.terms = r.o.prog.terms
	inv.leftDraft = true
	inv.status = status
	if status != stVoid {
		inv.issued = true
		var got apiInvoice
		if err := a.decode(&got); err != nil {
			r.fail("decode invoice: %v", err)
		}
		r.views[inv.id] = got.frozenView()
	}
}

func (r *run) genInvoiceIssue(drafts []*oInvoice) *step {
	inv := drafts[r.rng.IntN(len(drafts))]
	expect := expectOK
	if r.movedAway(inv) {
		expect = expectEither
	}
	return &step{desc: fmt.Sprintf("invoice %s of %s is issued", inv.id, inv.customer), req: &request{"PUT", "/api/v1/invoices/" + inv.id, invoiceBody(inv, stIssued, inv.lines)},
		expect: expect, money: true, apply: func(a answer) { r.leaveDraft(inv, stIssued, a) }}
}

func (r *run) genInvoicePay(issued, drafts []*oInvoice) *step {
	var inv *oInvoice
	expect := expectOK
	if len(issued) > 0 && (len(drafts) == 0 || r.rng.IntN(5) > 0) {
		inv = issued[r.rng.IntN(len(issued))]
	} else {
		inv, expect = drafts[r.rng.IntN(len(drafts))], expectEither // paid on the spot: the README names draft → issued → paid
	}
	if r.movedAway(inv) {
		expect = expectEither
	}
	from := inv.status
	return &step{desc: fmt.Sprintf("invoice %s of %s (%s) is paid", inv.id, inv.customer, from), req: &request{"PUT", "/api/v1/invoices/" + inv.id, invoiceBody(inv, stPaid, inv.lines)},
		expect: expect, money: true, apply: func(a answer) {
			if from == stDraft {
				r.leaveDraft(inv, stPaid, a)
				return
			}
			inv.status = stPaid
		}}
}

func (r *run) genInvoiceVoid(nonVoid []*oInvoice) *step {
	inv := nonVoid[r.rng.IntN(len(nonVoid))]
	expect := expectOK
	if inv.status != stIssued || r.movedAway(inv) {
		expect = expectEither // a draft or a paid invoice voided: the README does not say
	}
	from := inv.status
	return &step{desc: fmt.Sprintf("invoice %s of %s (%s) is voided", inv.id, inv.customer, from), req: &request{"PUT", "/api/v1/invoices/" + inv.id, invoiceBody(inv, stVoid, inv.lines)},
		expect: expect, money: true, apply: func(a answer) {
			if from == stDraft {
				r.leaveDraft(inv, stVoid, a)
				return
			}
			inv.status = stVoid
		}}
}

// genInvoiceRefused asks an invoice that left draft to change its lines,
// or to go back to draft: 409, and nothing changes.
func (r *run) genInvoiceRefused(invs []*oInvoice) *step {
	inv := invs[r.rng.IntN(len(invs))]
	ls := append([]oLineIn(nil), inv.lines...)
	status := inv.status
	what := "changes its lines"
	if len(ls) > 0 && r.rng.IntN(2) == 0 {
		ls[0].amount += 100
	} else {
		status, what = stDraft, "goes back to draft"
	}
	return &step{desc: fmt.Sprintf("invoice %s (%s) %s", inv.id, inv.status, what), req: &request{"PUT", "/api/v1/invoices/" + inv.id, invoiceBody(inv, status, ls)},
		expect: expectRefused, money: true}
}

// genMirrorRefused sends a visit naming a crew never sent, or a customer
// with an impossible latitude: 422, and nothing changes.
func (r *run) genMirrorRefused() *step {
	if len(r.o.visits) > 0 && r.rng.IntN(2) == 0 {
		v := *r.o.visits[r.rng.IntN(len(r.o.visits))]
		v.crew, v.date = "crew-z", v.date+1
		return &step{desc: fmt.Sprintf("visit %s moves to %s with a crew never sent", v.id, v.date), req: &request{"PUT", "/api/v1/visits/" + v.id, visitBody(&v)},
			expect: expectRefused, money: true}
	}
	c := *r.anyCustomer()
	c.consent, c.lat = !c.consent, 95
	return &step{desc: c.id + " is sent with latitude 95", req: &request{"PUT", "/api/v1/customers/" + c.id, customerBody(&c)},
		expect: expectRefused, money: true}
}

func (r *run) genReferral() *step {
	referrer := r.anyCustomer()
	var owed []*oCustomer // customers with something pending: a reward meets it on their next draft
	if r.lastX != nil {
		for _, c := range r.o.customers {
			if lg := r.lastX.ledgers[c.id]; lg != nil && lg.pending > 0 {
				owed = append(owed, c)
			}
		}
	}
	if len(owed) > 0 && r.rng.IntN(2) == 0 {
		referrer = owed[r.rng.IntN(len(owed))]
	}
	of := r.o.prog.offers[r.rng.IntN(len(r.o.prog.offers))]
	k := r.next("friend")
	email := fmt.Sprintf("friend%02d@example.org", k)
	return &step{desc: fmt.Sprintf("%s refers a friend (%s), offer %s", referrer.id, email, of.name),
		req: &request{"POST", "/api/v1/referrals", map[string]any{"referrer_id": referrer.id, "channel": "code", "variant": of.name,
			"referee": map[string]any{"name": fmt.Sprintf("Friend %d", k), "email": email}}}, expect: expectOK,
		apply: func(a answer) {
			var got struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			}
			if err := a.decode(&got); err != nil || a.status != 201 || got.Status != "pending" {
				r.fail("the referral should be a new pending one: %d %s", a.status, short(a.raw))
			}
			r.o.referrals = append(r.o.referrals, &oReferral{id: got.ID, referrer: referrer.id, email: email, variant: of.name, state: "pending",
				made: r.o.today})
		}}
}

func (r *run) genFriendSignUp(waiting []*oReferral) *step {
	if len(waiting) == 0 {
		return nil
	}
	ref := waiting[r.rng.IntN(len(waiting))]
	c := r.newCustomer(fmt.Sprintf("f%02d", r.next("friendCustomer")), ref.email)
	c.consent = r.rng.IntN(7) > 0
	return &step{desc: fmt.Sprintf("the friend %s becomes customer %s (%.0f m from %s)", ref.email, c.id, r.o.distance(c, r.o.customer(ref.referrer)), ref.referrer),
		req: &request{"PUT", "/api/v1/customers/" + c.id, customerBody(c)}, expect: expectOK, money: true,
		apply: func(answer) {
			r.o.customers = append(r.o.customers, c)
			ref.friend = c.id
		}}
}

func (r *run) genReconcile() *step {
	d := r.o.today + day(r.rng.IntN(21)-10)
	if len(r.o.visits) > 0 && r.rng.IntN(2) == 0 {
		d = r.o.visits[r.rng.IntN(len(r.o.visits))].date
	}
	return &step{desc: "reconcile " + d.String(), req: &request{"POST", "/api/v1/reconcile", map[string]any{"date": d.String()}},
		expect: expectOK, money: true, batch: true, days: []day{d}}
}

// genLostDiscounts loses the computed lines, totals and ledger rows of the
// drafts billing a day's visits (a restore from an older backup, a bad
// manual fix) and reconciles the day: reconciliation gives back exactly
// what was lost, each discount once, and the state is the oracle's again.
// The day is one whose drafts bill the most customers, so that it is
// reconciled in several batches side by side. Issued invoices keep their
// lines: they never change.
func (r *run) genLostDiscounts() *step {
	db := r.w.store.DB
	var days []localdate.Date
	if err := db.Raw(`SELECT v.service_date FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id JOIN visits v ON v.id = l.visit_id
		WHERE i.tenant_id = ? AND i.status = 'draft' GROUP BY v.service_date ORDER BY COUNT(DISTINCT i.customer_id) DESC, v.service_date`,
		r.tenant).Scan(&days).Error; err != nil {
		r.fail("find the days with drafts: %v", err)
	}
	if len(days) == 0 {
		return nil
	}
	d := dayOf(days[0].Year, time.Month(days[0].Month), days[0].Day)
	return &step{desc: "the discounts of " + d.String() + "'s drafts are lost, then reconcile " + d.String(),
		req: &request{"POST", "/api/v1/reconcile", map[string]any{"date": d.String()}}, expect: expectOK, batch: true, days: []day{d},
		// not a crash candidate: what a crash in a reconciliation leaves is genReconcile's to test
		before: func() { r.loseDiscounts(d) }}
}

// loseDiscounts deletes what reconciling day d must give back.
func (r *run) loseDiscounts(d day) {
	db := r.w.store.DB
	var drafts []int64
	if err := db.Raw(`SELECT DISTINCT i.id FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id JOIN visits v ON v.id = l.visit_id
		WHERE i.tenant_id = ? AND i.status = 'draft' AND v.service_date = ?`, r.tenant, d.String()).Scan(&drafts).Error; err != nil {
		r.fail("find the drafts of %s: %v", d, err)
	}
	for _, q := range []string{
		`DELETE FROM ledger_items WHERE tenant_id = ? AND invoice_id IN ?`,
		`DELETE FROM invoice_lines WHERE tenant_id = ? AND invoice_id IN ? AND (source_key IS NOT NULL OR item_key IS NOT NULL)`,
		`UPDATE invoices SET discount_cents = 0, total_cents = subtotal_cents WHERE tenant_id = ? AND id IN ?`,
	} {
		if err := db.Exec(q, r.tenant, drafts).Error; err != nil {
			r.fail("lose the discounts of %s: %v", d, err)
		}
	}
	r.seen["discounts lost and reconciled back"] = true
}

func (r *run) genAdvance() *step {
	return &step{desc: "a day passes", local: func() {
		r.w.clock.Advance(24 * time.Hour)
		r.o.today++
	}}
}

// ---- the concurrent variant ----

// TestModelConcurrent links pairs of neighbours A and B, gives A a visit
// on a day and a draft billing it (and a second draft, for a late credit),
// and then, for each pair at the same moment, issues A's draft and writes
// B's visit on that same day. Whichever comes first, A is owed the sync
// discount: on the issued invoice, or as a late credit. After quiescence:
// no 5xx, every issued invoice is what its issuing PUT answered, and the
// oracle — told which of the two ways each issue went — agrees with every
// invoice and ledger exactly.
func TestModelConcurrent(t *testing.T) {
	defer ledger.SetReconcileBatch(1)()
	pairs := envInt("ROUTELOOP_MODEL_PAIRS", byRace(100, 50))
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		rounds := envInt("ROUTELOOP_MODEL_CONCURRENT_ROUNDS", 1)
		for round := 1; round <= rounds; round++ {
			if err := w.concurrent(uint64(round), pairs); err != nil {
				t.Fatalf("%s, round %d: %v", s.Dialect, round, err)
			}
		}
	})
}

func (w *world) concurrent(seed uint64, pairs int) (err error) {
	r := w.newRun(seed, false)
	defer func() {
		if v := recover(); v != nil {
			f, ok := v.(failure)
			if !ok {
				panic(v)
			}
			err = errors.New(f.msg + "\nsteps:\n" + strings.Join(r.log, "\n"))
		}
	}()
	ctx := context.Background()
	start := time.Date(2026, 5, 11, 19, 0, 0, 0, time.UTC)
	w.clock.Set(start)
	ten, key, e := w.app.Tenants.Create(ctx, tenant.NewTenant{Name: fmt.Sprintf("Concurrent %d", seed), Timezone: "America/Los_Angeles", Currency: "USD"})
	if e != nil {
		return e
	}
	r.tenant = ten.ID
	r.c = &client{h: w.app.HTTP, key: key}
	r.o = &oracle{today: dayOf(2026, 5, 11), prog: oProgram{terms: terms{sync: 1000, max: 2000}, radius: 500, pointValue: 10, estimatedVisit: 5000}}
	o := r.o
	quiet := func(st *step) { st.noCheck = true; r.exec(st) }
	quiet(&step{desc: "program", req: &request{"PUT", "/api/v1/program", map[string]any{"sync_discount_bps": 1000, "max_discount_bps": 2000,
		"sync_requires_same_crew": false, "neighbor_radius_m": 500}}, expect: expectOK})
	quiet(&step{desc: "crew", req: &request{"PUT", "/api/v1/crews/crew-a", map[string]any{"name": "Crew A", "depot_lat": 45.5, "depot_lon": -122.66}}, expect: expectOK})
	type pair struct {
		a, b         *oCustomer
		va, vb       *oVisit
		first, other *oInvoice
		answer       answer
		vbAnswer     answer
	}
	ps := make([]*pair, pairs)
	the := o.today + 2
	for i := range ps {
		p := &pair{}
		for k, id := range []string{fmt.Sprintf("a%03d", i), fmt.Sprintf("b%03d", i)} {
			// Each pair on its own street, far from the other pairs.
			c := &oCustomer{id: id, seq: len(o.customers), name: "Customer " + id, email: id + "@example.com",
				phone: fmt.Sprintf("+1 503 555 %04d", 2000+2*i+k), consent: true,
				lat: math.Round((lat0+float64(i)*0.02)*1e6) / 1e6, lon: math.Round((lon0+float64(k)*0.0015)*1e6) / 1e6}
			c.street = fmt.Sprintf("%d SE Maple St", 10+4*(2*i+k))
			c.streets = []string{c.street}
			quiet(&step{desc: "customer " + id, req: &request{"PUT", "/api/v1/customers/" + id, customerBody(c)}, expect: expectOK,
				apply: func(answer) { o.customers = append(o.customers, c) }})
			if k == 0 {
				p.a = c
			} else {
				p.b = c
			}
		}
		quiet(&step{desc: "link", req: &request{"POST", "/api/v1/neighbor-links", map[string]any{"customer_a": p.a.id, "customer_b": p.b.id}},
			expect: expectOK, apply: func(a answer) {
				var l apiLink
				_ = a.decode(&l)
				o.links = append(o.links, &oLink{id: l.ID, a: l.CustomerA, b: l.CustomerB, dist: l.DistanceM, starts: o.today})
			}})
		// Even pairs meet on one day, odd pairs on the next, which is
		// reconciled while the writes go on (a reconciliation must add
		// nothing, and must not be what saves a lost discount).
		when := the + day(i%2)
		p.va = &oVisit{id: fmt.Sprintf("va%03d", i), seq: len(o.visits), customer: p.a.id, crew: "crew-a", date: when, status: vScheduled, price: int64(3000 + 7*i)}
		quiet(&step{desc: "A's visit", req: &request{"PUT", "/api/v1/visits/" + p.va.id, visitBody(p.va)}, expect: expectOK,
			apply: func(answer) { o.visits = append(o.visits, p.va) }})
		va2 := &oVisit{id: fmt.Sprintf("vx%03d", i), seq: len(o.visits), customer: p.a.id, crew: "crew-a", date: when + 7, status: vScheduled, price: 4000}
		quiet(&step{desc: "A's next visit", req: &request{"PUT", "/api/v1/visits/" + va2.id, visitBody(va2)}, expect: expectOK,
			apply: func(answer) { o.visits = append(o.visits, va2) }})
		for k, v := range []*oVisit{p.va, va2} {
			inv := &oInvoice{id: fmt.Sprintf("ia%03d-%d", i, k+1), seq: len(o.invoices), customer: p.a.id, status: stDraft,
				lines: []oLineIn{{visit: v.id, desc: "Mow", amount: v.price}}}
			quiet(&step{desc: "A's draft", req: &request{"PUT", "/api/v1/invoices/" + inv.id, invoiceBody(inv, stDraft, inv.lines)}, expect: expectOK,
				apply: func(answer) { o.invoices = append(o.invoices, inv) }})
			if k == 0 {
				p.first = inv
			} else {
				p.other = inv
			}
		}
		p.vb = &oVisit{id: fmt.Sprintf("vb%03d", i), customer: p.b.id, crew: "crew-a", date: when, status: vScheduled, price: 3500}
		ps[i] = p
	}
	r.check()

	// What A's draft carries when it is issued: without B's visit, or with it.
	without := o.expect()
	with := o.clone()
	for _, p := range ps {
		v := *p.vb
		v.seq = len(with.visits)
		with.visits = append(with.visits, &v)
	}
	withX := with.expect()

	// The race.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4) // pairs in flight at once
	for _, p := range ps {
		// Either side may start up to 2 ms late, so that every
		// interleaving of the two writes' statements comes up.
		lag := time.Duration(r.rng.IntN(2000)) * time.Microsecond
		issueLate := r.rng.IntN(2) == 0
		wg.Add(1)
		sem <- struct{}{}
		go func(p *pair) {
			defer func() { <-sem; wg.Done() }()
			gate := make(chan struct{})
			var inner sync.WaitGroup
			inner.Add(2)
			go func() {
				defer inner.Done()
				<-gate
				if issueLate {
					time.Sleep(lag)
				}
				p.answer = r.c.do("PUT", "/api/v1/invoices/"+p.first.id, invoiceBody(p.first, stIssued, p.first.lines))
			}()
			go func() {
				defer inner.Done()
				<-gate
				if !issueLate {
					time.Sleep(lag)
				}
				p.vbAnswer = r.c.do("PUT", "/api/v1/visits/"+p.vb.id, visitBody(p.vb))
			}()
			close(gate)
			inner.Wait()
		}(p)
	}
	// Reconciling that day beside the writes adds nothing.
	stop := make(chan struct{})
	var reconciled []answer
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			reconciled = append(reconciled, r.c.do("POST", "/api/v1/reconcile", map[string]any{"date": (the + 1).String()}))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	wg.Wait()
	close(stop)
	rwg.Wait()
	for _, a := range reconciled {
		if a.status != 200 {
			r.fail("reconciling %s beside the writes answered %d %s", the+1, a.status, short(a.raw))
		}
	}

	// The facts after quiescence, and which way each issue went.
	var problems []string
	for _, p := range ps {
		r.log = append(r.log, fmt.Sprintf("pair %s/%s: issue %s → %d %s; visit %s → %d", p.a.id, p.b.id, p.first.id, p.answer.status,
			short(p.answer.raw), p.vb.id, p.vbAnswer.status))
		if !p.answer.ok() || !p.vbAnswer.ok() {
			problems = append(problems, fmt.Sprintf("pair %s/%s: issue answered %d %s, visit answered %d %s", p.a.id, p.b.id,
				p.answer.status, short(p.answer.raw), p.vbAnswer.status, short(p.vbAnswer.raw)))
		}
	}
	if len(problems) > 0 {
		r.fail("concurrent writes failed:\n  %s\nserver log:\n%s", strings.Join(problems, "\n  "), w.logs.take())
	}
	for _, p := range ps {
		v := *p.vb
		v.seq = len(o.visits)
		o.visits = append(o.visits, &v)
	}
	withDiscount := 0
	for _, p := range ps {
		var got apiInvoice
		if err := p.answer.decode(&got); err != nil {
			r.fail("decode %s: %v", p.first.id, err)
		}
		_, computed := splitLines(got)
		var have []lineKey
		for _, l := range computed {
			have = append(have, keyOfAPI(l))
		}
		sortKeys(have)
		var matched []xLine
		for _, x := range []*expectation{without, withX} {
			var want []lineKey
			for _, l := range x.invoices[p.first.id].lines {
				want = append(want, keyOfX(l))
			}
			sortKeys(want)
			if fmtKeys(want) == fmtKeys(have) {
				matched = x.invoices[p.first.id].lines
				break
			}
		}
		if matched == nil && len(have) > 0 {
			r.fail("%s was issued with %s: neither without B's visit %s nor with it %s", p.first.id, fmtKeys(have),
				fmtKeys(keysOf(without.invoices[p.first.id].lines)), fmtKeys(keysOf(withX.invoices[p.first.id].lines)))
		}
		p.first.frozen, p.first.terms, p.first.leftDraft, p.first.issued, p.first.status = matched, o.prog.terms, true, true, stIssued
		r.views[p.first.id] = got.frozenView()
		if len(matched) > 0 {
			withDiscount++
		}
	}
	r.check()
	w.t.Logf("%s: %d pairs: %d issued with the sync discount, %d got it as a late credit", w.store.Dialect, pairs, withDiscount, pairs-withDiscount)
	return nil
}

func keysOf(ls []xLine) []lineKey {
	var out []lineKey
	for _, l := range ls {
		out = append(out, keyOfX(l))
	}
	sortKeys(out)
	return out
}
