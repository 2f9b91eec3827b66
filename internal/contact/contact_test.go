package contact

import (
	"fmt"
	"strings"
	"testing"
)

func TestEmailAliasesAreOneMailbox(t *testing.T) {
	same := []string{"angiebaker@gmail.com", "Angie.Baker@gmail.com", "angie.baker+lawn@GMAIL.com", " a.n.g.i.e.baker@googlemail.com "}
	for _, e := range same {
		if got := Email(e); got != "angiebaker@gmail.com" {
			t.Errorf("Email(%q) = %q", e, got)
		}
	}
	if got := Email("Angie.Baker+x@Example.com"); got != "angie.baker@example.com" {
		t.Errorf("non-gmail keeps dots, drops the tag: %q", got)
	}
	for _, bad := range []string{"", "angie", "@gmail.com", "a@", "+x@gmail.com"} {
		if got := Email(bad); got != "" {
			t.Errorf("Email(%q) = %q, want empty", bad, got)
		}
	}
}

func TestPhoneWrittenThreeWaysIsOneNumber(t *testing.T) {
	for _, p := range []string{"(503) 555-0142", "503.555.0142", "+1 503 555 0142", "1-503-555-0142"} {
		if got := Phone(p, "US"); got != "+15035550142" {
			t.Errorf("Phone(%q) = %q", p, got)
		}
	}
	if got := Phone("030 1234567", "DE"); got != "+49301234567" {
		t.Errorf("German number: %q", got)
	}
	for _, bad := range []string{"", "555", "call me", "+1 000 000 0000"} {
		if got := Phone(bad, "US"); got != "" {
			t.Errorf("Phone(%q) = %q, want empty", bad, got)
		}
	}
	if !ValidRegion("us") || ValidRegion("XX") {
		t.Error("region check")
	}
}

func TestStreetAndName(t *testing.T) {
	if a, b := Street("14 SE Maple Street, Portland, OR"), Street("14 southeast maple st."); a != b || a != "14 se maple st" {
		t.Errorf("%q vs %q", a, b)
	}
	if Street("14 SE Maple St") == Street("16 SE Maple St") {
		t.Error("different houses compare equal")
	}
	if Name("  Angie   BAKER ") != "angie baker" {
		t.Error("name fold")
	}
}

func TestOnlyPhoneNumbersPassAsPhones(t *testing.T) {
	for _, ok := range []string{"", "  ", "(503) 555-0142", "+1 503 555 0142", "503.555.0142", "+44 20 7946 0958"} {
		if err := CheckPhone(ok, "US"); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"call me maybe", "555", "1", "ask for Ben", "+1 000 000 0000", "503-555-0142 ext. banana"} {
		err := CheckPhone(bad, "US")
		if err == nil {
			t.Errorf("%q accepted as a US phone", bad)
		} else if !strings.Contains(err.Error(), "US") {
			t.Errorf("%q: %v does not name the country", bad, err)
		}
	}
	if err := CheckPhone("020 7946 0958", "GB"); err != nil {
		t.Errorf("a London number refused for GB: %v", err)
	}
	if err := CheckPhone("020 7946 0958", "US"); err == nil {
		t.Error("a London number without +44 accepted for US")
	}
}

// TestPhoneAnswersTheSameFromMemory: a number read again, or read after
// Phone has forgotten the ones it kept, normalises as the first time, and
// Phone keeps at most phonesKept of them.
func TestPhoneAnswersTheSameFromMemory(t *testing.T) {
	cases := [][3]string{
		{"(503) 555-0142", "us", "+15035550142"},
		{"+44 20 7946 0958", "US", "+442079460958"},
		{"call me maybe", "US", ""},
		{"020 7946 0958", "GB", "+442079460958"},
		{"020 7946 0958", "US", ""},
	}
	for round := 0; round < 3; round++ {
		for _, c := range cases {
			if got := Phone(c[0], c[1]); got != c[2] {
				t.Fatalf("round %d: Phone(%q, %q) = %q, want %q", round, c[0], c[1], got, c[2])
			}
		}
		for i := 0; i < phonesKept+10; i++ { // more than it keeps: it forgets
			Phone(fmt.Sprintf("503 555 %04d", i%10000), "US")
		}
		phones.Lock()
		n := len(phones.m)
		phones.Unlock()
		if n > phonesKept {
			t.Fatalf("Phone keeps %d numbers, more than %d", n, phonesKept)
		}
	}
}
