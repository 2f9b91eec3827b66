// Package contact normalises how people write their e-mail, phone and
// street, so that "Angie.Baker+lawn@Gmail.com" and "angiebaker@gmail.com",
// or "(503) 555-0142" and "+1 503 555 0142", are recognised as the same —
// for matching referees to customers and for spotting self-referrals.
package contact

import (
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Email lower-cases an address and, for Gmail, drops dots and +tags from the
// local part (Gmail delivers all of them to one mailbox). Empty or malformed
// input gives "".
func Email(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return ""
	}
	if domain == "googlemail.com" {
		domain = "gmail.com"
	}
	if domain == "gmail.com" {
		local, _, _ = strings.Cut(local, "+")
		local = strings.ReplaceAll(local, ".", "")
	} else if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	if local == "" {
		return ""
	}
	return local + "@" + domain
}

// Phone returns the number in E.164 ("+15035550142"), reading national
// numbers as of region (ISO 3166 alpha-2, e.g. "US"). Input that is not a
// valid number gives "".
func Phone(s, region string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	key := [2]string{s, region}
	phones.Lock()
	e164, ok := phones.m[key]
	phones.Unlock()
	if ok {
		return e164
	}
	if n, err := phonenumbers.Parse(s, strings.ToUpper(region)); err == nil && phonenumbers.IsValidNumber(n) {
		e164 = phonenumbers.Format(n, phonenumbers.E164)
	}
	phones.Lock()
	if len(phones.m) >= phonesKept {
		clear(phones.m)
	}
	phones.m[key] = e164
	phones.Unlock()
	return e164
}

// phones remembers the latest numbers Phone read (parsing one takes tens
// of microseconds, and a request checks a number, then normalises it),
// at most phonesKept of them: a pure function's answers, never stale.
var phones = struct {
	sync.Mutex
	m map[[2]string]string
}{m: map[[2]string]string{}}

const phonesKept = 4096

// CheckPhone explains why s is not a phone number of region (national, as
// "(503) 555-0142") or of anywhere (international, as "+44 20 7946 0958"),
// or returns nil; an empty s passes. "call me maybe" is not a number.
func CheckPhone(s, region string) error {
	if strings.TrimSpace(s) == "" || Phone(s, region) != "" {
		return nil
	}
	region = strings.ToUpper(region)
	example := ""
	if n := phonenumbers.GetExampleNumber(region); n != nil {
		example = " such as " + phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return fmt.Errorf("must be a phone number of %s%s, or an international one starting with +", region, example)
}

// ValidRegion reports whether region is a country phone numbers are known
// for.
func ValidRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region)) != 0
}

// streetWords shortens the common street suffixes and directions.
var streetWords = map[string]string{
	"street": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr", "lane": "ln",
	"boulevard": "blvd", "court": "ct", "place": "pl", "terrace": "ter", "parkway": "pkwy",
	"north": "n", "south": "s", "east": "e", "west": "w",
	"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}

// Street returns the first line of an address in a comparable form:
// lower-case, punctuation dropped, "Street" → "st", "Southeast" → "se".
// "14 SE Maple Street, Portland" and "14 se maple st." give the same.
func Street(s string) string {
	line, _, _ := strings.Cut(s, ",")
	words := strings.FieldsFunc(strings.ToLower(line), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '#'
	})
	for i, w := range words {
		if short, ok := streetWords[w]; ok {
			words[i] = short
		}
	}
	return strings.Join(words, " ")
}

// Name folds a person's name for comparison: lower-case, single spaces.
func Name(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
