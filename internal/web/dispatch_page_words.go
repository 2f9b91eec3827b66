package web

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/routeloop/routeloop/internal/apperror"
)

// Pages speak in people's words: names for the scheduler's ids, no
// references to visits or referrals by number.

var referralNumber = regexp.MustCompile(`\breferral \d+\b`)

// decisionProblem says why the engine refused a decision, in words.
func decisionProblem(e *apperror.Error) string {
	if e.Code == apperror.CodeNotFound {
		return "That referral does not exist."
	}
	var msgs []string
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		switch k {
		case "reason":
			msgs = append(msgs, "Reason: "+e.Fields[k])
		case "referrer_id":
			msgs = append(msgs, "That customer is not on file (any more).")
		default:
			msgs = append(msgs, e.Fields[k])
		}
	}
	if len(msgs) > 0 {
		return strings.Join(msgs, " ")
	}
	return sentence(referralNumber.ReplaceAllString(e.Message, "this referral"))
}

// visitOrReferralRef is an internal reference in a message: "(visit
// rl-5c2e…)" or "(referral #12)"; people don't need it.
var visitOrReferralRef = regexp.MustCompile(`\s*\((?:visit [^)\s]+|referral #\d+)\)`)

// inWords puts names for the scheduler's ids in a message from a feature
// ("angie was named as referrer 5 times" → "Angie Baker was named …") and
// drops references to visits and referrals by id. An id is replaced only
// where it stands as a word of its own.
func inWords(msg string, names map[string]string) string {
	msg = visitOrReferralRef.ReplaceAllString(msg, "")
	for id, name := range names {
		if id == "" || name == "" {
			continue
		}
		msg = replaceWord(msg, id, name)
	}
	return msg
}

// replaceWord replaces the occurrences of word in s that are not part of a
// longer word (letters, digits, '-', '_', or a '.' inside one).
func replaceWord(s, word, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, word)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(word)
		if !partOfWord(s, i-1, true) && !partOfWord(s, end, false) {
			b.WriteString(s[:i])
			b.WriteString(with)
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
	}
}

// partOfWord reports whether the byte at i of s continues a word (before
// or after a match).
func partOfWord(s string, i int, before bool) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c >= 0x80:
		return true
	case c == '.':
		// A full stop ends a sentence; a dot inside an id continues it.
		if before {
			return i > 0 && partOfWord(s, i-1, true)
		}
		return i+1 < len(s) && partOfWord(s, i+1, false) && s[i+1] != '.'
	}
	return false
}
