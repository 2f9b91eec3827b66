package demo

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
)

// The shape of the demo data set.
const (
	customersPerCrew = 40 // 4 crews: 160 customers before the program's friends join
	clusteredPerCrew = 25 // about 60% of a crew's customers live in clusters of neighbours
	weeksBack        = 13 // about three months of history: completed (or cancelled) visits before today
	weeksAhead       = 4  // scheduled visits from today on
	draftDays        = 7  // invoices of the last week are still drafts
	issuedDays       = 14 // then issued; older ones are paid (a few late payers stay issued)
	cancelPercent    = 3  // share of past visits that were cancelled
	latePayerPercent = 10 // share of older invoices still unpaid
	seed1, seed2     = 2026, 503
)

// customerSpec is one demo customer and how the company serves it.
type customerSpec struct {
	id       string
	input    mirror.CustomerInput
	point    geo.Point
	hood     string
	crew     string
	cluster  int // 1-based cluster number; 0 for customers without neighbours in the program
	weekday  time.Weekday
	biweekly bool
	parity   int // a biweekly customer is served in weeks whose index has this parity
	plan     servicePlan
	price    int64
	minutes  int
	// since is a referred friend's first visit; zero for the company's
	// customers of old.
	since localdate.Date
}

// visitSpec is one demo visit.
type visitSpec struct {
	id       string
	customer *customerSpec
	crew     string
	date     localdate.Date
	start    time.Time
	position int
	status   string
}

// invoiceSpec is one demo invoice.
type invoiceSpec struct {
	id     string
	visit  *visitSpec
	status string
	input  invoice.Input
}

// dataset is everything Seed writes for one "today".
type dataset struct {
	today     localdate.Date
	from, to  localdate.Date // inclusive window of visits
	anchor    localdate.Date // the first day of the story (referrals from then on)
	customers []customerSpec // the company's customers, then the friends who joined
	base      int            // how many of customers are the company's customers of old
	visits    []visitSpec
	invoices  []invoiceSpec
	referrals []referralSpec
	ratings   []ratingSpec
}

// build returns the demo data for today in loc. Customers (who they are,
// where they live, when they are served) come from a constant seed and do
// not depend on today; visits and invoices are a window around today, and
// everything random about one of them (cancelled? late payer?) is drawn from
// a hash of its id, so a later run regenerates the same objects for the same
// dates and only adds the new weeks.
//
// The story (referrals, the friends who became customers, ratings) starts
// on anchor — the first day of the history when the demo tenant was made —
// and runs to today: a later run continues it with the same referrals
// before and new ones since.
func build(today, anchor localdate.Date, loc *time.Location) dataset {
	g := buildCustomers()
	ds := dataset{
		today:  today,
		from:   today.AddDays(-7 * weeksBack),
		to:     today.AddDays(7*weeksAhead - 1),
		anchor: anchor,
	}
	ds.referrals = buildReferrals(g, anchor, today)
	ds.customers, ds.base = g.out, g.base
	ds.visits = buildVisits(ds.customers, ds.from, ds.to, today, loc)
	ds.invoices = buildInvoices(ds.visits, today)
	ds.ratings = buildRatings(ds.visits, today)
	return ds
}

// --- customers ---------------------------------------------------------------

func buildCustomers() *generator {
	rng := rand.New(rand.NewPCG(seed1, seed2))
	g := &generator{rng: rng, emails: map[string]bool{}, homes: map[string]bool{}, phones: rng.Perm(900)}
	for _, cr := range crews {
		g.load = [7]float64{}
		var clusterHoods, allHoods []hood
		for _, h := range hoods {
			if h.crew != cr.id {
				continue
			}
			allHoods = append(allHoods, h)
			if h.cluster {
				clusterHoods = append(clusterHoods, h)
			}
		}
		n := 0
		for n < clusteredPerCrew {
			size := min(3+rng.IntN(4), customersPerCrew-n)
			g.addCluster(clusterHoods[rng.IntN(len(clusterHoods))], cr.id, size)
			n += size
		}
		for ; n < customersPerCrew; n++ {
			g.addScattered(allHoods[rng.IntN(len(allHoods))], cr.id)
		}
	}
	g.base = len(g.out)
	return g
}

type generator struct {
	rng      *rand.Rand
	out      []customerSpec
	emails   map[string]bool
	homes    map[string]bool // addresses handed out
	phones   []int
	load     [7]float64 // visits per week on each weekday, for the crew being filled
	clusters int
	base     int // how many of out are the company's customers of old (the rest are friends)
}

// addCluster adds size neighbours a few blocks apart, most of them on one
// street and most of them served on one weekday.
func (g *generator) addCluster(h hood, crew string, size int) {
	rng := g.rng
	g.clusters++
	center := g.freePoint(h.center, 900)
	main := pickStreet(h, quadrant(center), rng)
	day := g.quietDay()
	parity := rng.IntN(2)
	for i := 0; i < size; i++ {
		var p geo.Point
		st := main
		if i == 0 || rng.Float64() < 0.65 {
			// Along the cluster's street: spread along it, a few metres across.
			along, across := (rng.Float64()*2-1)*220, (rng.Float64()*2-1)*8
			if st.ns {
				p = g.freePointAt(center, across, along)
			} else {
				p = g.freePointAt(center, along, across)
			}
		} else {
			p = g.freePoint(center, 200)
			st = pickStreet(h, quadrant(p), rng)
		}
		wd := day
		if rng.Float64() > 0.85 {
			wd = time.Weekday(1 + rng.IntN(5))
		}
		c := g.customer(h, crew, p, st, wd, rng.Float64() < 0.72)
		c.cluster = g.clusters
		c.parity = parity
		g.out = append(g.out, c)
	}
}

// addScattered adds a customer somewhere in the neighbourhood.
func (g *generator) addScattered(h hood, crew string) {
	p := g.freePoint(h.center, 1300)
	c := g.customer(h, crew, p, pickStreet(h, quadrant(p), g.rng), g.quietDay(), g.rng.Float64() < 0.45)
	g.out = append(g.out, c)
}

// quietDay is the crew's least busy weekday so far (Monday to Friday).
func (g *generator) quietDay() time.Weekday {
	best := time.Monday
	for d := time.Monday; d <= time.Friday; d++ {
		if g.load[d] < g.load[best] {
			best = d
		}
	}
	return best
}

func (g *generator) customer(h hood, crew string, p geo.Point, st street, wd time.Weekday, consent bool) customerSpec {
	rng := g.rng
	n := len(g.out) + 1
	first := firstNames[rng.IntN(len(firstNames))]
	last := lastNames[rng.IntN(len(lastNames))]
	name := first + " " + last
	if rng.Float64() < 0.15 {
		name = first + " & " + firstNames[rng.IntN(len(firstNames))] + " " + last
	}
	local := asciiLower(first) + "." + asciiLower(last)
	email := local + "@" + emailDomains[rng.IntN(len(emailDomains))]
	for k := 2; g.emails[email]; k++ {
		email = fmt.Sprintf("%s%d@%s", local, k, emailDomains[rng.IntN(len(emailDomains))])
	}
	g.emails[email] = true
	area := "503"
	if rng.Float64() < 0.3 {
		area = "971"
	}
	phone := fmt.Sprintf("(%s) 555-%04d", area, 100+g.phones[n-1])

	pl := pickPlan(rng)
	price := pl.minCents + int64(rng.IntN(int((pl.maxCents-pl.minCents)/250)+1))*250
	minutes := pl.minMinutes + rng.IntN(pl.maxMinutes-pl.minMinutes+1)
	biweekly := rng.Float64() < 0.35
	parity := rng.IntN(2)
	if biweekly {
		g.load[wd] += 0.5
	} else {
		g.load[wd]++
	}
	lat, lon := round6(p.Lat), round6(p.Lon)
	num, streetName := houseNumber(p, st, rng)
	for g.homes[fmt.Sprint(num, streetName)] {
		num += 2 // two points on one block can round to one number
	}
	g.homes[fmt.Sprint(num, streetName)] = true
	return customerSpec{
		id: fmt.Sprintf("cust-%04d", n),
		input: mirror.CustomerInput{
			Name:           name,
			Email:          email,
			Phone:          phone,
			Address:        fmt.Sprintf("%d %s, Portland, OR %s", num, streetName, h.zip),
			Lat:            &lat,
			Lon:            &lon,
			ConsentSameDay: consent,
		},
		point:    geo.Point{Lat: lat, Lon: lon},
		hood:     h.name,
		crew:     crew,
		weekday:  wd,
		biweekly: biweekly,
		parity:   parity,
		plan:     pl,
		price:    price,
		minutes:  minutes,
	}
}

func pickPlan(rng *rand.Rand) servicePlan {
	total := 0
	for _, p := range plans {
		total += p.weight
	}
	k := rng.IntN(total)
	for _, p := range plans {
		if k < p.weight {
			return p
		}
		k -= p.weight
	}
	return plans[0]
}

// freePoint draws a point uniformly within radius metres of c that is at
// least 20 m from every customer so far: two households a few metres apart
// would look like a self-referral to the fraud rules.
func (g *generator) freePoint(c geo.Point, radius float64) geo.Point {
	for {
		r := radius * math.Sqrt(g.rng.Float64())
		a := g.rng.Float64() * 2 * math.Pi
		p := offset(c, r*math.Cos(a), r*math.Sin(a))
		if g.free(p) {
			return p
		}
	}
}

// freePointAt is c moved east by dx and north by dy metres, nudged along
// until it is free.
func (g *generator) freePointAt(c geo.Point, dx, dy float64) geo.Point {
	for {
		p := offset(c, dx, dy)
		if g.free(p) {
			return p
		}
		dx += 25 * (g.rng.Float64()*2 - 1)
		dy += 25 * (g.rng.Float64()*2 - 1)
	}
}

func (g *generator) free(p geo.Point) bool {
	for _, o := range g.out {
		if geo.DistanceM(p, o.point) < 20 {
			return false
		}
	}
	return true
}

// offset moves p east by dx and north by dy metres.
func offset(p geo.Point, dx, dy float64) geo.Point {
	const mPerDegLat = 111_320.0
	return geo.Point{
		Lat: p.Lat + dy/mPerDegLat,
		Lon: p.Lon + dx/(mPerDegLat*math.Cos(p.Lat*math.Pi/180)),
	}
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r == 'á':
			b.WriteByte('a')
		case r == 'é':
			b.WriteByte('e')
		case r == 'í':
			b.WriteByte('i')
		case r == 'ó':
			b.WriteByte('o')
		case r == 'ú':
			b.WriteByte('u')
		}
	}
	return b.String()
}

// --- addresses on Portland's grid ------------------------------------------------

// Portland numbers houses 100 per block, about 20 blocks to the mile: east
// and west from the Willamette (north of the river's bend, west from
// Williams Ave), north and south from Burnside Street.
const (
	burnsideLat   = 45.5230
	eastBaseLon   = -122.6665 // the river on the east side; Williams Ave for North Portland
	westBaseLon   = -122.6760 // the river on the west side
	numbersPerLat = 138_300.0 // house numbers per degree of latitude
	lonPerHundred = 0.00103   // degrees of longitude per 100 house numbers
)

// street is where a house is: a named street or a numbered avenue.
type street struct {
	name string
	ns   bool // runs north-south, so house numbers count from Burnside
}

// quadrant is Portland's address prefix for p.
func quadrant(p geo.Point) string {
	switch {
	case p.Lon >= eastBaseLon && p.Lat >= burnsideLat:
		return "NE"
	case p.Lon >= eastBaseLon:
		return "SE"
	case p.Lat >= 45.535:
		return "N"
	}
	return "SW"
}

// eastWestNumber is the house number p would have on an east-west street.
func eastWestNumber(p geo.Point, q string) float64 {
	switch q {
	case "NE", "SE":
		return (p.Lon - eastBaseLon) / lonPerHundred * 100
	case "N":
		return (eastBaseLon - p.Lon) / lonPerHundred * 100
	}
	return (westBaseLon - p.Lon) / lonPerHundred * 100
}

// northSouthNumber is the house number p would have on a north-south avenue.
func northSouthNumber(p geo.Point) float64 { return math.Abs(p.Lat-burnsideLat) * numbersPerLat }

// pickStreet chooses a street of the neighbourhood in p's quadrant, or the
// numbered avenue p lies on.
func pickStreet(h hood, q string, rng *rand.Rand) street {
	var named []string
	for _, s := range h.streets {
		if strings.HasPrefix(s, q+" ") {
			named = append(named, s)
		}
	}
	useNamed := len(named) > 0 && (!h.avenues || rng.Float64() < 0.6)
	if useNamed {
		s := named[rng.IntN(len(named))]
		return street{name: s, ns: strings.HasSuffix(s, " Ave")}
	}
	return street{name: "", ns: true} // numbered avenue, named from the point
}

// houseNumber is p's house number and street name.
func houseNumber(p geo.Point, st street, rng *rand.Rand) (int, string) {
	q := quadrant(p)
	name := st.name
	if name == "" {
		ave := max(1, int(math.Round(eastWestNumber(p, q)/100)))
		name = fmt.Sprintf("%s %s Ave", q, ordinal(ave))
	}
	var n float64
	if st.ns {
		n = northSouthNumber(p)
	} else {
		n = eastWestNumber(p, q)
	}
	num := max(100, int(n))
	num = num - num%2 + rng.IntN(2) // either side of the street
	return num, name
}

func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// --- visits ------------------------------------------------------------------

// weekIndex counts weeks since Monday 1970-01-05, so a biweekly customer's
// weeks do not depend on when the demo is loaded.
func weekIndex(d localdate.Date) int64 {
	days := d.Start(time.UTC).Unix() / 86400
	return (days - 4) / 7
}

func serves(c *customerSpec, d localdate.Date) bool {
	return d.Weekday() == c.weekday && (!c.biweekly || int(weekIndex(d)%2) == c.parity) && !d.Before(c.since)
}

// buildVisits lays out every crew's day from..to: each crew's customers of
// that day in nearest-neighbour order from the depot, the first at 08:00
// local time, the next after the job and the drive, rounded up to 5 minutes.
func buildVisits(cs []customerSpec, from, to, today localdate.Date, loc *time.Location) []visitSpec {
	var out []visitSpec
	for d := from; !d.After(to); d = d.AddDays(1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday || holiday(d) {
			continue
		}
		for _, cr := range crews {
			var day []*customerSpec
			for i := range cs {
				if cs[i].crew == cr.id && serves(&cs[i], d) {
					day = append(day, &cs[i])
				}
			}
			route := nearestNeighbour(cr.depot, day)
			at := time.Date(d.Year, d.Month, d.Day, 8, 0, 0, 0, loc)
			for i, c := range route {
				v := visitSpec{
					id:       visitID(c, d),
					customer: c,
					crew:     cr.id,
					date:     d,
					start:    at,
					position: i + 1,
					status:   mirror.VisitScheduled,
				}
				if d.Before(today) {
					v.status = mirror.VisitCompleted
					if chance(v.id, cancelPercent) {
						v.status = mirror.VisitCancelled
					}
				}
				out = append(out, v)
				if i+1 < len(route) {
					at = at.Add(time.Duration(gapMinutes(c, route[i+1])) * time.Minute)
				}
			}
		}
	}
	return out
}

// visitID names c's visit on d ("visit-cust-0001-2026-11-24").
func visitID(c *customerSpec, d localdate.Date) string { return "visit-" + c.id + "-" + d.String() }

// holiday reports whether the crews are off on d: New Year's Day, Memorial
// Day, Independence Day, Labor Day, Thanksgiving and Christmas Day. Customers
// due that day skip a week.
func holiday(d localdate.Date) bool {
	nth := (d.Day-1)/7 + 1                // the nth such weekday of the month
	last := d.AddDays(7).Month != d.Month // the last such weekday of the month
	switch {
	case d.Month == time.January && d.Day == 1,
		d.Month == time.July && d.Day == 4,
		d.Month == time.December && d.Day == 25:
		return true
	case d.Weekday() == time.Monday:
		return (d.Month == time.May && last) || (d.Month == time.September && nth == 1)
	case d.Weekday() == time.Thursday:
		return d.Month == time.November && nth == 4
	}
	return false
}

// gapMinutes is the time from the start of the job at a to the start at b:
// the job, then the drive at city speed (25 km/h plus 3 minutes to park),
// rounded up to 5 minutes.
func gapMinutes(a, b *customerSpec) int {
	drive := geo.DistanceM(a.point, b.point)/1000/25*60 + 3
	total := float64(a.minutes) + drive
	return int(math.Ceil(total/5)) * 5
}

// nearestNeighbour orders the stops greedily: always the closest one next.
func nearestNeighbour(depot geo.Point, stops []*customerSpec) []*customerSpec {
	left := append([]*customerSpec(nil), stops...)
	sort.Slice(left, func(i, j int) bool { return left[i].id < left[j].id })
	out := make([]*customerSpec, 0, len(left))
	at := depot
	for len(left) > 0 {
		best := 0
		for i := range left {
			if geo.DistanceM(at, left[i].point) < geo.DistanceM(at, left[best].point) {
				best = i
			}
		}
		out = append(out, left[best])
		at = left[best].point
		left = append(left[:best], left[best+1:]...)
	}
	return out
}

// chance is a stable coin for the object called id: true for percent in
// every hundred ids, the same answer on every run.
func chance(id string, percent uint64) bool {
	return hashOf(id)%100 < percent
}

// hashOf is a stable number drawn from s, the same on every run.
func hashOf(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// --- invoices ----------------------------------------------------------------

// buildInvoices bills every completed visit before today on an invoice of
// its own ("inv-cust-0001-2026-11-24"): an invoice per visit is complete the
// moment the visit is, so a rerun weeks later generates exactly the same
// lines for it and the invoice service accepts it unchanged (issued
// invoices never change; a monthly invoice built from a moving window would
// not come out the same). Invoices of the last week are drafts, the week
// before is issued, older ones are paid except for a few late payers.
func buildInvoices(vs []visitSpec, today localdate.Date) []invoiceSpec {
	var out []invoiceSpec
	for i := range vs {
		v := &vs[i]
		if v.status != mirror.VisitCompleted {
			continue
		}
		id := "inv-" + v.customer.id + "-" + v.date.String()
		age := v.date.DaysUntil(today)
		status := invoice.StatusPaid
		switch {
		case age <= draftDays:
			status = invoice.StatusDraft
		case age <= issuedDays, chance(id, latePayerPercent):
			status = invoice.StatusIssued
		}
		visitID := v.id
		out = append(out, invoiceSpec{
			id:     id,
			visit:  v,
			status: status,
			input: invoice.Input{
				CustomerID: v.customer.id,
				Status:     status,
				Lines: []invoice.LineInput{{
					VisitID:     &visitID,
					Description: fmt.Sprintf("%s, %s", v.customer.plan.name, v.date),
					AmountCents: v.customer.price,
				}},
			},
		})
	}
	return out
}
