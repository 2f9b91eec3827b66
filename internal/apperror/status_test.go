package apperror

import (
	"net/http"
	"testing"
)

// Every code has its status, and a status read back names a code of it.
func TestEveryCodeHasItsStatus(t *testing.T) {
	cases := []struct {
		code   string
		status int
	}{
		{CodeValidation, http.StatusUnprocessableEntity},
		{CodeUnprocessable, http.StatusUnprocessableEntity},
		{CodeBadRequest, http.StatusBadRequest},
		{CodeNotFound, http.StatusNotFound},
		{CodeConflict, http.StatusConflict},
		{CodeUnauthorized, http.StatusUnauthorized},
		{CodeForbidden, http.StatusForbidden},
		{CodeTooLarge, http.StatusRequestEntityTooLarge},
		{CodeMediaType, http.StatusUnsupportedMediaType},
		{CodeMethodNotAllowed, http.StatusMethodNotAllowed},
		{CodeTooManyRequests, http.StatusTooManyRequests},
		{CodeInternal, http.StatusInternalServerError},
		{"no_such_code", http.StatusInternalServerError},
		{"", http.StatusInternalServerError},
	}
	for _, c := range cases {
		if got := Status(c.code); got != c.status {
			t.Errorf("Status(%q) = %d, want %d", c.code, got, c.status)
		}
	}
	// The table and this test list the same codes: a code added to one
	// and not the other fails here.
	if len(statuses) != len(cases)-3 {
		t.Errorf("the table has %d codes, this test %d", len(statuses), len(cases)-3)
	}
	for _, s := range statuses {
		if back := Status(CodeOf(s.status)); back != s.status {
			t.Errorf("CodeOf(%d) = %q, whose status is %d", s.status, CodeOf(s.status), back)
		}
	}
}

func TestCodeOfAStatus(t *testing.T) {
	cases := []struct {
		status int
		code   string
	}{
		{http.StatusNotFound, CodeNotFound},
		{http.StatusMethodNotAllowed, CodeMethodNotAllowed},
		{http.StatusRequestEntityTooLarge, CodeTooLarge},
		{http.StatusUnauthorized, CodeUnauthorized},
		{http.StatusForbidden, CodeForbidden},
		{http.StatusUnsupportedMediaType, CodeMediaType},
		{http.StatusTooManyRequests, CodeTooManyRequests},
		{http.StatusBadRequest, CodeBadRequest},
		{http.StatusConflict, CodeConflict},
		// Two codes answer 422; a bare 422 is a validation failure.
		{http.StatusUnprocessableEntity, CodeValidation},
		// Any other 4xx is a bad request; anything else is ours.
		{http.StatusTeapot, CodeBadRequest},
		{http.StatusGone, CodeBadRequest},
		{http.StatusInternalServerError, CodeInternal},
		{http.StatusServiceUnavailable, CodeInternal},
		{http.StatusOK, CodeInternal},
	}
	for _, c := range cases {
		if got := CodeOf(c.status); got != c.code {
			t.Errorf("CodeOf(%d) = %q, want %q", c.status, got, c.code)
		}
	}
}
