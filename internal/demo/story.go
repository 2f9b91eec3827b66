package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/referral"
)

// The referral program's story: from the first day of the history, six
// friends a week are referred through every channel, half under each of
// the program's two offers; most sign up, have their first visit a week
// or so later and so convert; many live a few doors from the customer who
// referred them and are serviced the same day by the same crew.
const (
	referralsPerWeek = 6
	// The two offers of the A/B test: the standard 10% for both, and a $25
	// welcome credit for the friend (the referrer still gets 10%).
	offerStandard = "standard"
	offerWelcome  = "welcome-25"
	// How often a friend signs up under each offer, and how often a friend
	// lives near the referrer (and agrees to same-day service).
	signUpStandard = 40
	signUpWelcome  = 90
	neighbourShare = 55
	// Reward settings the demo program runs with.
	rewardHoldDays       = 7
	monthlyBudgetCents   = 40_000
	welcomeCreditCents   = 2500
	standardRewardBps    = 1000
	ratingPercent        = 20 // share of completed visits the customer rates the next day
	resolvePercent       = 50 // share of complaints the office resolves two days later
	complaintScoreLimit  = 2  // a rating this low comes with a complaint
	duplicateAfterVisits = 3  // days after a friend's first visit another customer names them too
)

var channels = []string{referral.ChannelCard, referral.ChannelLink, referral.ChannelCode,
	referral.ChannelCrewPitch, referral.ChannelNameOnly}

// referralSpec is one referral of the story.
type referralSpec struct {
	key      string // stable name: "ref-2026-09-14-3"
	day      localdate.Date
	channel  string
	variant  string
	referrer int // index into the customers
	// friend is the index of the friend as a customer (-1: never signed
	// up); they are mirrored from the scheduler on mirror.
	friend int
	mirror localdate.Date
	// The friend as the referral names them.
	name, email, phone, address string
	lat, lon                    *float64
	crewMember                  string
	// sameHousehold: the "friend" has the referrer's phone (the checks
	// flag it); duplicate: a second customer naming a friend who already
	// converted.
	sameHousehold, duplicate bool
}

// buildReferrals plans the referrals from anchor to the day before today,
// appending the friends who sign up to g's customers. Everything about a
// referral is drawn from its own seed and the referrals before it, so a
// later today only appends.
func buildReferrals(g *generator, anchor, today localdate.Date) []referralSpec {
	var out []referralSpec
	used := map[int]bool{}
	n := 0
	monday := anchor.AddDays(-int((anchor.Weekday() + 6) % 7))
	flagged, duplicated := false, false
	for week := monday; week.Before(today); week = week.AddDays(7) {
		for k := 0; k < referralsPerWeek; k++ {
			// In day order, so the friends who have signed up by any today
			// are the first ones and keep their ids on a later run.
			day := week.AddDays(k * 5 / referralsPerWeek)
			if day.Before(anchor) || !day.Before(today) || holiday(day) {
				continue
			}
			key := fmt.Sprintf("ref-%s-%d", day, k+1)
			rng := rand.New(rand.NewPCG(hashOf(key), seed2))
			g.rng = rng
			r := referralSpec{key: key, day: day, channel: channels[n%len(channels)], friend: -1}
			r.variant = offerStandard
			if n%2 == 1 {
				r.variant = offerWelcome
			}
			n++
			neighbour := chance(key+"/near", neighbourShare)
			// A crew member pitches at the end of a job: the referrer is
			// served that day.
			onSite := func(c *customerSpec) bool { return true }
			if r.channel == referral.ChannelCrewPitch {
				onSite = func(c *customerSpec) bool {
					return serves(c, day) && !chance(visitID(c, day), cancelPercent)
				}
			}
			r.referrer = pickReferrer(g, used, rng, neighbour, onSite)
			ref := &g.out[r.referrer]
			signUp := signUpStandard
			if r.variant == offerWelcome {
				signUp = signUpWelcome
			}
			h := hoodOf(ref.hood)
			var c customerSpec
			if neighbour {
				p := g.freePoint(ref.point, 250)
				c = g.customer(h, ref.crew, p, pickStreet(h, quadrant(p), rng), ref.weekday, true)
				c.biweekly, c.parity = ref.biweekly, ref.parity
			} else {
				p := g.freePoint(h.center, 1300)
				c = g.customer(h, ref.crew, p, pickStreet(h, quadrant(p), rng), time.Weekday(1+rng.IntN(5)), rng.Float64() < 0.5)
			}
			// Friends' numbers follow the customers' (555-0100 to 555-0999).
			c.input.Phone = fmt.Sprintf("(503) 555-%04d", 1000+n)
			r.name, r.email, r.phone = c.input.Name, c.input.Email, c.input.Phone
			if r.channel == referral.ChannelCrewPitch {
				r.crewMember = fmt.Sprintf("%s-member-%d", ref.crew, 1+n%2)
			}
			if r.channel == referral.ChannelLink || r.channel == referral.ChannelCard {
				// The landing page's form asks for the address.
				r.address, r.lat, r.lon = c.input.Address, c.input.Lat, c.input.Lon
			}
			// A friend who signs up is in the scheduler a couple of days
			// later (before that routeloop cannot know them).
			if mirror := nextWorkday(day.AddDays(2)); chance(key+"/signs-up", uint64(signUp)) && mirror.Before(today) {
				r.mirror = mirror
				c.since = firstServed(&c, day.AddDays(7))
				c.id = fmt.Sprintf("cust-%04d", len(g.out)+1)
				g.out = append(g.out, c)
				r.friend = len(g.out) - 1
			}
			out = append(out, r)
		}
		// Two referrals the program must not pay for: in the story's
		// second week a "friend" with the referrer's own phone, and once a
		// friend has converted, a second customer naming them too.
		if !flagged && week.After(anchor.AddDays(7)) {
			if day := week.AddDays(1); day.Before(today) {
				flagged = true
				rng := rand.New(rand.NewPCG(hashOf("flagged"), seed2))
				r := referralSpec{key: "ref-flagged", day: day, channel: referral.ChannelCode, variant: offerStandard, friend: -1,
					referrer: pickReferrer(g, used, rng, false, nil), name: "Sam Same-Household", sameHousehold: true}
				r.phone = g.out[r.referrer].input.Phone
				out = append(out, r)
			}
		}
		if !duplicated {
			for _, o := range out {
				if o.friend < 0 || o.sameHousehold {
					continue
				}
				day := nextWorkday(g.out[o.friend].since.AddDays(duplicateAfterVisits))
				if !day.Before(today) || day.Before(week) || !day.Before(week.AddDays(7)) {
					continue
				}
				duplicated = true
				rng := rand.New(rand.NewPCG(hashOf("duplicate"), seed2))
				out = append(out, referralSpec{key: "ref-duplicate", day: day, channel: referral.ChannelCard, variant: offerWelcome,
					friend: -1, referrer: pickReferrer(g, used, rng, false, nil), name: o.name, email: o.email, duplicate: true})
				break
			}
		}
	}
	return out
}

// pickReferrer draws a customer of old who has not referred anyone in the
// story yet (and passes ok, if given); a neighbour's referrer agreed to
// same-day service.
func pickReferrer(g *generator, used map[int]bool, rng *rand.Rand, consenting bool, ok func(*customerSpec) bool) int {
	start := rng.IntN(g.base)
	for i := 0; i < g.base; i++ {
		j := (start + i) % g.base
		if used[j] || (consenting && (!g.out[j].input.ConsentSameDay || g.out[j].cluster == 0)) || (ok != nil && !ok(&g.out[j])) {
			continue
		}
		used[j] = true
		return j
	}
	return start // more referrals than customers: someone refers twice
}

func hoodOf(name string) hood {
	for _, h := range hoods {
		if h.name == name {
			return h
		}
	}
	return hoods[0]
}

// firstServed is the first day from d on that c would be served.
func firstServed(c *customerSpec, d localdate.Date) localdate.Date {
	for ; ; d = d.AddDays(1) {
		if serves(c, d) && !holiday(d) {
			return d
		}
	}
}

func nextWorkday(d localdate.Date) localdate.Date {
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday || holiday(d) {
		d = d.AddDays(1)
	}
	return d
}

// --- ratings -------------------------------------------------------------------

// ratingSpec is a customer's rating of a completed visit, given the day
// after it; a complaint may be resolved by the office two days later.
type ratingSpec struct {
	visit          *visitSpec
	day            localdate.Date
	score          int
	comment        string
	complaint      bool
	resolveOn      *localdate.Date
	resolutionNote string
}

var praise = []string{"", "", "Lawn looks great, thank you!", "Friendly crew, very tidy.", "", "On time as always.",
	"Edges are perfect.", "", "Love the stripes.", "Quick and careful around the flower beds."}

var complaints = []string{"The gate was left open and the dog got out.", "Clippings all over the driveway.",
	"Crew came an hour late and skipped the back yard.", "Sprinkler head broken near the sidewalk."}

// buildRatings rates about one completed visit in five, mostly 4 or 5
// stars, a few 1 or 2 with a complaint.
func buildRatings(vs []visitSpec, today localdate.Date) []ratingSpec {
	var out []ratingSpec
	for i := range vs {
		v := &vs[i]
		day := v.date.AddDays(1)
		if v.status != mirror.VisitCompleted || !day.Before(today) || !chance(v.id+"/rated", ratingPercent) {
			continue
		}
		h := hashOf(v.id+"/score") % 100
		r := ratingSpec{visit: v, day: day, score: 5}
		switch {
		case h < 2:
			r.score = 1
		case h < 4:
			r.score = 2
		case h < 9:
			r.score = 3
		case h < 35:
			r.score = 4
		}
		if r.score <= complaintScoreLimit {
			r.complaint = true
			r.comment = complaints[hashOf(v.id+"/complaint")%uint64(len(complaints))]
			if fix := day.AddDays(2); fix.Before(today) && chance(v.id+"/resolved", resolvePercent) {
				r.resolveOn = &fix
				r.resolutionNote = "Called the customer, the crew lead went back the next morning to put it right."
			}
		} else if r.score >= 4 {
			r.comment = praise[hashOf(v.id+"/comment")%uint64(len(praise))]
		}
		out = append(out, r)
	}
	return out
}
