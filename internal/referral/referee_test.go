package referral_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/referral"
)

// A friend needs a name and a way to reach them: a phone (of the company's
// country, or international) or an e-mail; either is enough.
func TestTheFriendRule(t *testing.T) {
	for _, c := range []struct {
		name    string
		in      referral.RefereeInput
		country string
		refused map[string]string // field → a word of its message
	}{
		{"a name and a phone", referral.RefereeInput{Name: "Jo Friend", Phone: "(201) 555-0123"}, "US", nil},
		{"a name and an e-mail", referral.RefereeInput{Name: "Jo Friend", Email: "jo@example.com"}, "US", nil},
		{"a name, a phone and an e-mail", referral.RefereeInput{Name: "Jo Friend", Phone: "+44 20 7946 0958", Email: "jo@example.com"}, "US", nil},
		{"a customer record reaches them", referral.RefereeInput{Name: "Jo Friend", ExternalID: "cust-7"}, "US", nil},
		{"no name", referral.RefereeInput{Phone: "(201) 555-0123"}, "US", map[string]string{"referee.name": "empty"}},
		{"a name of spaces", referral.RefereeInput{Name: "   ", Email: "jo@example.com"}, "US", map[string]string{"referee.name": "empty"}},
		{"neither phone nor e-mail", referral.RefereeInput{Name: "Jo Friend"}, "US", map[string]string{"referee.phone": "phone or e-mail"}},
		{"phone and e-mail of spaces", referral.RefereeInput{Name: "Jo Friend", Phone: " ", Email: " "}, "US", map[string]string{"referee.phone": "phone or e-mail"}},
		{"nothing at all", referral.RefereeInput{}, "US", map[string]string{"referee.name": "empty", "referee.phone": "phone or e-mail"}},
		{"a phone that is not one", referral.RefereeInput{Name: "Jo Friend", Phone: "12345", Email: "jo@example.com"}, "US", map[string]string{"referee.phone": "(201) 555-0123"}},
		{"a UK number for a US company", referral.RefereeInput{Name: "Jo Friend", Phone: "020 7946 0958"}, "US", map[string]string{"referee.phone": "phone number of US"}},
		{"the same number for a UK company", referral.RefereeInput{Name: "Jo Friend", Phone: "020 7946 0958"}, "GB", nil},
		{"an e-mail that is not one", referral.RefereeInput{Name: "Jo Friend", Email: "lou at example"}, "US", map[string]string{"referee.email": "e-mail address"}},
		{"a bad phone and a bad e-mail", referral.RefereeInput{Name: "Jo Friend", Phone: "12345", Email: "lou at example"}, "US",
			map[string]string{"referee.phone": "phone number", "referee.email": "e-mail address"}},
		{"a name of 200 characters", referral.RefereeInput{Name: strings.Repeat("a", 200), Email: "jo@example.com"}, "US", nil},
		{"a name of 201 characters", referral.RefereeInput{Name: strings.Repeat("a", 201), Email: "jo@example.com"}, "US", map[string]string{"referee.name": "at most 200"}},
		{"a phone of 41 characters", referral.RefereeInput{Name: "Jo Friend", Phone: "2015550123" + strings.Repeat(" ", 21) + "2015550123"}, "US",
			map[string]string{"referee.phone": "at most 40"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.in.ValidateFor(c.country)
			if c.refused == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			ae, ok := apperror.As(err)
			if !ok || ae.Code != apperror.CodeValidation {
				t.Fatalf("got %v, want a validation error", err)
			}
			if got, want := slices.Sorted(maps.Keys(ae.Fields)), slices.Sorted(maps.Keys(c.refused)); !slices.Equal(got, want) {
				t.Fatalf("refused fields %v, want %v (%v)", got, want, ae.Fields)
			}
			for field, word := range c.refused {
				if !strings.Contains(ae.Fields[field], word) {
					t.Errorf("%s: %q, want %q in it", field, ae.Fields[field], word)
				}
			}
		})
	}
}

// Validate is the same rule without the company's country: any number that
// reads as one in some country is not refused there.
func TestValidateLeavesTheCountryToValidateFor(t *testing.T) {
	in := referral.RefereeInput{Name: "Jo Friend", Phone: "020 7946 0958"}
	if err := in.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := in.ValidateFor("US"); err == nil {
		t.Fatal("ValidateFor(US) took a UK national number")
	}
}
