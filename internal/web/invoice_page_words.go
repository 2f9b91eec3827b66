package web

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
)

// The invoice page's sentences: each line that gives money back says, in
// the customer's words, what it is for. Nothing internal shows — no ids, no
// neighbour's name or house number, no stored reason as it is written for
// the scheduler.

// syncReason reads the stored reason of a same-day discount (or of the late
// credit that makes up for one) back into its parts: the neighbour's street
// as the ledger names it, the distance of their link, the day, and for a
// credit the invoice that went without it.
var syncReason = regexp.MustCompile(`^serviced the same day as (.+), (\d+) m away, on (\d{4}-\d{2}-\d{2})(?:; not on invoice (.+) when it was issued)?`)

// houseNumber is a house number as addresses write it: "30", "30A",
// "30-32", "#4". Ordinals ("1st") are street names, not numbers.
var houseNumber = regexp.MustCompile(`^#?\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?,?$`)

// streetName is a street without its house number: "SE Maple St" of
// "30 SE Maple St", "Hauptstraße" of "Hauptstraße 12"; "" when nothing but
// a number is left. The customer learns which street, never which house.
func streetName(street string) string {
	words := strings.Fields(street)
	lead := 0
	for lead < len(words) && houseNumber.MatchString(words[lead]) {
		lead++
	}
	words = words[lead:]
	if lead == 0 { // a number after the street, as much of Europe writes it
		for len(words) > 1 && houseNumber.MatchString(words[len(words)-1]) {
			words = words[:len(words)-1]
		}
	}
	return strings.TrimSuffix(strings.Join(words, " "), ",")
}

// distanceText is a distance for people, under 1 km to the nearest step
// metres: (163, 1) is "163 m", (163, 10) "160 m", (1420, 1) "1.4 km".
func distanceText(m, step float64) string {
	if m < 1000 {
		return strconv.Itoa(int(math.Round(m/step)*step)) + " m"
	}
	return kmText(m / 1000)
}

// dayText is a tenant-local date for people: "Tuesday, May 5, 2026".
func dayText(date string) string {
	d, err := time.Parse("2006-01-02", date)
	if err != nil {
		return date
	}
	return d.Format("Monday, January 2, 2006")
}

// neighbourWhere is "your neighbour on SE Maple St (160 m away)".
func neighbourWhere(street string, metres int) string {
	where := "your neighbour"
	if name := streetName(street); name != "" && street != "your linked neighbour" {
		where += " on " + name
	}
	return where + " (" + distanceText(float64(metres), 1) + " away)"
}

// syncWhy explains a same-day discount line, or the credit making up for
// one that an issued invoice went without; ok is false for other lines.
func syncWhy(l invoice.Line, currency string) (why string, ok bool) {
	m := syncReason.FindStringSubmatch(l.Reason)
	if m == nil {
		return "", false
	}
	metres, _ := strconv.Atoi(m[2])
	saved := Money(-l.AmountCents, currency)
	where := neighbourWhere(m[1], metres)
	switch {
	case l.Kind == invoice.KindSyncDiscount:
		return fmt.Sprintf("You saved %s because we serviced your property the same day as %s, on %s.", saved, where, dayText(m[3])), true
	case l.Kind == invoice.KindCredit && m[4] != "":
		return fmt.Sprintf("You saved %s: we serviced your property the same day as %s on %s, and invoice %s went out without that discount, so it comes off here.",
			saved, where, dayText(m[3]), m[4]), true
	}
	return "", false
}

// rewardKey reads the reward a computed line gives from its ledger item
// key ("reward:3").
func rewardKey(l invoice.Line) (int64, bool) {
	if l.ItemKey == nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(*l.ItemKey, "reward:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

// rewardWhy explains a referral reward's line: the friend's welcome offer
// names who referred them; the referrer's thank-you names no friend.
// referrer is the referrer's name, "" when unknown.
func rewardWhy(l invoice.Line, r referral.Reward, referrer, currency string) string {
	amount := Money(-l.AmountCents, currency)
	if r.Role != "referee" {
		switch {
		case r.Kind == program.RewardFreeAddon:
			return fmt.Sprintf("A free %s (worth %s) as a thank-you for referring a friend.", r.AddonName, Money(r.ValueCents, currency))
		case r.Kind == program.RewardPoints:
			return fmt.Sprintf("%s thank-you for referring a friend (your %d points).", amount, r.Points)
		}
		return amount + " thank-you for referring a friend."
	}
	because := "because a friend referred you"
	if referrer != "" {
		because = "because " + referrer + " referred you"
	}
	switch {
	case r.Kind == program.RewardFreeAddon:
		return fmt.Sprintf("A free %s (worth %s) as a welcome gift %s.", r.AddonName, Money(r.ValueCents, currency), because)
	case l.Kind == invoice.KindReferralReward:
		return fmt.Sprintf("%s welcome discount %s.", amount, because)
	}
	return fmt.Sprintf("%s welcome credit %s.", amount, because)
}
