package contact

import "testing"

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
