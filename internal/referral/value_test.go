package referral

import (
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/program"
)

// What a reward is worth when it is granted: a fixed credit or an add-on
// its amount; a percent its share of the customer's latest priced visit,
// or of the program's estimate when they have none, rounded half away
// from zero; points their value as credit.
func TestWhatARewardIsWorth(t *testing.T) {
	prog := program.Defaults("t") // estimate $50.00, a point worth 10 cents
	for _, c := range []struct {
		name   string
		spec   program.Reward
		latest int64
		want   int64
	}{
		{"$20 credit", program.Reward{Kind: program.RewardFixedCredit, AmountCents: 2000}, 4500, 2000},
		{"a free hedge trim worth $15", program.Reward{Kind: program.RewardFreeAddon, AmountCents: 1500, AddonName: "hedge trim"}, 0, 1500},
		{"10% of the latest $45 visit", program.Reward{Kind: program.RewardPercentNextInvoice, Bps: 1000}, 4500, 450},
		{"10% of the estimate, no visit yet", program.Reward{Kind: program.RewardPercentNextInvoice, Bps: 1000}, 0, 500},
		{"12.5% of $0.99 is 12 cents (12.375)", program.Reward{Kind: program.RewardPercentNextInvoice, Bps: 1250}, 99, 12},
		{"15% of $0.99 rounds 14.85 to 15", program.Reward{Kind: program.RewardPercentNextInvoice, Bps: 1500}, 99, 15},
		{"50 points", program.Reward{Kind: program.RewardPoints, Points: 50}, 4500, 500},
		{"an unknown kind", program.Reward{Kind: "hug"}, 4500, 0},
	} {
		if got := rewardValue(prog, c.spec, c.latest); got != c.want {
			t.Errorf("%s: worth %d cents, want %d", c.name, got, c.want)
		}
	}
}

// A referrer's cap-th reward is paid and the next is capped, with the
// cap named; the yearly cap the same within the year, and 0 means no
// yearly cap.
func TestTheReferrerCapsAtTheirBoundary(t *testing.T) {
	prog := program.Defaults("t")
	prog.ReferrerCap, prog.YearlyCap = 32, 5
	noYearly := prog
	noYearly.YearlyCap = 0
	for _, c := range []struct {
		name            string
		prog            program.Program
		total, thisYear int64
		capped          string // a word of why; "" when paid
	}{
		{"the first", prog, 0, 0, ""},
		{"the 32nd", noYearly, 31, 0, ""},
		{"the 33rd", noYearly, 32, 0, "program's cap of 32"},
		{"the 5th this year", prog, 20, 4, ""},
		{"the 6th this year", prog, 20, 5, "this year's cap of 5"},
		{"both caps reached: the program's is named", prog, 32, 5, "program's cap of 32"},
		{"no yearly cap", noYearly, 20, 19, ""},
	} {
		why := referrerCapped(c.prog, c.total, c.thisYear, "Ben converted")
		switch {
		case c.capped == "" && why != "":
			t.Errorf("%s: capped: %s", c.name, why)
		case c.capped != "" && (!strings.Contains(why, c.capped) || !strings.Contains(why, "(Ben converted)")):
			t.Errorf("%s: %q, want a cap naming %q and the reward's reason", c.name, why, c.capped)
		}
	}
}

// A reward that fits the month's budget to the cent is paid, one cent
// more does not fit; without a budget everything fits, and a reward worth
// nothing is not counted against it.
func TestTheMonthlyBudgetToTheCent(t *testing.T) {
	prog := program.Defaults("t")
	prog.MonthlyBudgetCents = 1700
	none := prog
	none.MonthlyBudgetCents = 0
	for _, c := range []struct {
		name        string
		prog        program.Program
		used, value int64
		fits        bool
	}{
		{"the first reward", prog, 0, 1000, true},
		{"exactly what is left", prog, 1000, 700, true},
		{"a cent more", prog, 1001, 700, false},
		{"bigger than the budget", prog, 0, 1701, false},
		{"no budget", none, 1_000_000, 700, true},
	} {
		if got := fitsBudget(c.prog, c.used, c.value); got != c.fits {
			t.Errorf("%s: fits %v, want %v", c.name, got, c.fits)
		}
	}
	for _, c := range []struct {
		prog     program.Program
		value    int64
		budgeted bool
	}{{prog, 700, true}, {prog, 0, false}, {none, 700, false}} {
		if got := budgeted(c.prog, c.value); got != c.budgeted {
			t.Errorf("budget %d, reward %d: counted %v, want %v", c.prog.MonthlyBudgetCents, c.value, got, c.budgeted)
		}
	}
}
