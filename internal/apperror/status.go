package apperror

import "net/http"

// Codes of failures that only the HTTP layer meets (echo's own answers, the
// rate limit, and anything that is not an *Error).
const (
	CodeMethodNotAllowed = "method_not_allowed"
	CodeTooManyRequests  = "too_many_requests"
	CodeInternal         = "internal"
)

// statuses is the one table of codes and their HTTP statuses, read both
// ways by Status and CodeOf. Where two codes share a status, the first
// one listed is the code CodeOf names for it.
var statuses = []struct {
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
}

// Status is the HTTP status of an error code; an unknown code is a 500.
func Status(code string) int {
	for _, s := range statuses {
		if s.code == code {
			return s.status
		}
	}
	return http.StatusInternalServerError
}

// CodeOf names the code of an HTTP status that did not come with one
// (echo's 404 for an unknown route, 405, 413, ...): the table's code for
// it, bad_request for any other 4xx, internal for the rest.
func CodeOf(status int) string {
	for _, s := range statuses {
		if s.status == status {
			return s.code
		}
	}
	if status >= 400 && status < 500 {
		return CodeBadRequest
	}
	return CodeInternal
}
