package text_test

import (
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/text"
)

func TestWhatATextFieldMayHold(t *testing.T) {
	cases := []struct {
		name string
		in   string
		kind text.Kind
		max  int
		want string // "" accepted, else part of the reason
	}{
		{"a plain name", "Angie Baker", text.Line, 200, ""},
		{"accents and CJK", "Zoë Müller 山田", text.Line, 200, ""},
		{"empty", "", text.Line, 200, ""},
		{"NUL", "Angie\x00Baker", text.Line, 200, "NUL"},
		{"NUL in free text", "fine\x00", text.Free, 200, "NUL"},
		{"bell", "Angie\aBaker", text.Line, 200, "control characters (found U+0007)"},
		{"ANSI escape", "\x1b[31mAngie\x1b[0m", text.Line, 200, "control characters (found U+001B)"},
		{"ANSI escape in free text", "\x1b[2J", text.Free, 200, "control characters"},
		{"C1 control", "Angie\u0085", text.Line, 200, "control characters"},
		{"DEL", "Angie\x7f", text.Line, 200, "control characters"},
		{"newline in a name", "Angie\nBaker", text.Line, 200, "one line"},
		{"tab in a name", "Angie\tBaker", text.Line, 200, "one line"},
		{"line separator in a name", "Angie\u2028Baker", text.Line, 200, "one line"},
		{"newline and tab in a comment", "Lovely edges.\n\tThanks", text.Free, 200, ""},
		{"CR LF in a comment", "line one\r\nline two", text.Free, 200, ""},
		{"a lone CR in a comment", "line one\rline two", text.Free, 200, "control characters (found U+000D)"},
		{"invalid UTF-8", "Angie \xff", text.Line, 200, "valid UTF-8"},
		{"a replaced byte", "Angie \uFFFD", text.Line, 200, "U+FFFD"},
		{"multibyte at the limit", strings.Repeat("x", 499) + "€", text.Free, 500, ""},
		{"multibyte one over", strings.Repeat("€", 501), text.Free, 500, "at most 500 characters"},
		{"emoji count as one", strings.Repeat("🌳", 10), text.Line, 10, ""},
	}
	for _, c := range cases {
		err := text.Check(c.in, c.kind, c.max)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want a reason with %q", c.name, err, c.want)
		}
	}
}

func TestFieldNamesTheFieldAndRequiresWhenAsked(t *testing.T) {
	f := apperror.Fields{}
	if text.Field(f, "name", "  ", text.Line, true, 10) || f["name"] != "must not be empty" {
		t.Fatalf("blank required: %v", f)
	}
	if !text.Field(f, "note", "", text.Free, false, 10) || f["note"] != "" {
		t.Fatalf("empty optional: %v", f)
	}
	err := text.Invalid("reason", "a\x00", text.Free, 10)
	if ae, ok := apperror.As(err); !ok || ae.Code != apperror.CodeValidation || ae.Fields["reason"] == "" {
		t.Fatalf("Invalid: %v", err)
	}
	if text.Len("€€") != 2 {
		t.Fatal("Len counts bytes")
	}
}
