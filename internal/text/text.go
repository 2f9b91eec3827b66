// Package text is routeloop's one rule for what people and schedulers may
// write into a text field: valid UTF-8, no NUL and no control characters
// (ANSI escapes included), newline and tab only in free text (comments,
// notes, descriptions, reasons), and limits counted in characters, never
// bytes. Every validator calls it, so the rule is written once.
package text

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/routeloop/routeloop/internal/apperror"
)

// Kind says which characters a field may hold besides printable text.
type Kind int

const (
	// Line is a one-line field: a name, an address, a phone, a label.
	Line Kind = iota
	// Free is free text: newline (also as CR LF) and tab are allowed.
	Free
)

// Len is the length of s in characters.
func Len(s string) int { return utf8.RuneCountInString(s) }

// Check explains why s cannot be a field of this kind of at most max
// characters, or returns nil. An empty s passes (use Required for fields
// that must be given).
func Check(s string, kind Kind, max int) error {
	if !utf8.ValidString(s) {
		return errMsg("must be valid UTF-8 text")
	}
	for i, r := range s {
		if !allowed(r, kind, s, i) {
			return errMsg(forbidden(r, kind))
		}
	}
	if Len(s) > max {
		return fmt.Errorf("must be at most %d characters", max)
	}
	return nil
}

// Field checks s as Check does and records the reason under field in f;
// required refuses an empty (or blank) s. It reports whether s passed.
func Field(f apperror.Fields, field, s string, kind Kind, required bool, max int) bool {
	if required && strings.TrimSpace(s) == "" {
		f.Add(field, "must not be empty")
		return false
	}
	if err := Check(s, kind, max); err != nil {
		f.Add(field, err.Error())
		return false
	}
	return true
}

// Invalid is Check as a validation error naming field, or nil.
func Invalid(field, s string, kind Kind, max int) error {
	if err := Check(s, kind, max); err != nil {
		return apperror.Invalid(field, err.Error())
	}
	return nil
}

func allowed(r rune, kind Kind, s string, i int) bool {
	if r == utf8.RuneError {
		return false // a literal U+FFFD: what a replaced invalid byte looks like
	}
	if r == '\u2028' || r == '\u2029' { // line and paragraph separators
		return kind == Free
	}
	if !unicode.IsControl(r) {
		return true
	}
	if kind != Free {
		return false
	}
	switch r {
	case '\n', '\t':
		return true
	case '\r': // only as part of a CR LF, as browsers send a textarea's lines
		return i+1 < len(s) && s[i+1] == '\n'
	}
	return false
}

func forbidden(r rune, kind Kind) string {
	switch {
	case r == 0:
		return "must not contain NUL characters"
	case r == utf8.RuneError:
		return "must not contain the replacement character U+FFFD"
	case kind == Line && (r == '\n' || r == '\r' || r == '\t' || r == '\u2028' || r == '\u2029'):
		return "must be one line, without newlines or tabs"
	default:
		return fmt.Sprintf("must not contain control characters (found U+%04X)", r)
	}
}

type errMsg string

func (e errMsg) Error() string { return string(e) }
