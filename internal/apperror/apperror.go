// Package apperror is routeloop's one error type. Features create these with a
// stable code; Status maps the code to its HTTP status in one table, for the
// API and the pages alike.
package apperror

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Codes understood by every layer. The HTTP status of each is decided by
// Status, nowhere else.
const (
	CodeValidation    = "validation_failed"
	CodeNotFound      = "not_found"
	CodeConflict      = "conflict"
	CodeUnauthorized  = "unauthorized"
	CodeForbidden     = "forbidden"
	CodeTooLarge      = "body_too_large"
	CodeBadRequest    = "bad_request"
	CodeUnprocessable = "unprocessable"
	CodeMediaType     = "unsupported_media_type"
)

// Error is a failure a caller can act on: a code, a message for people and,
// for validation failures, a message per offending field.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Code + ": " + e.Message
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return e.Code + ": " + e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// HasCode reports whether err carries the given code.
func HasCode(err error, code string) bool {
	e, ok := As(err)
	return ok && e.Code == code
}

// NotFound says that a thing of this tenant does not exist.
func NotFound(format string, args ...any) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// Conflict says the request clashes with what is stored.
func Conflict(format string, args ...any) *Error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(format, args...)}
}

// Unprocessable says the request is well formed but a business rule refuses it.
func Unprocessable(format string, args ...any) *Error {
	return &Error{Code: CodeUnprocessable, Message: fmt.Sprintf(format, args...)}
}

// BadRequest says the request itself is malformed.
func BadRequest(format string, args ...any) *Error {
	return &Error{Code: CodeBadRequest, Message: fmt.Sprintf(format, args...)}
}

// FieldNames are the fields the error has a message for, sorted.
func (e *Error) FieldNames() []string { return slices.Sorted(maps.Keys(e.Fields)) }

// Fields collects validation messages per field; Err returns nil when empty.
type Fields map[string]string

// Add records a message for a field, keeping the first one given.
func (f Fields) Add(field, message string) {
	if _, ok := f[field]; !ok {
		f[field] = message
	}
}

// Err turns the collected messages into a validation error, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: CodeValidation, Message: "the request has invalid fields", Fields: map[string]string(f)}
}

// Invalid is a validation error about one field.
func Invalid(field, message string) *Error {
	return &Error{Code: CodeValidation, Message: "the request has invalid fields", Fields: map[string]string{field: message}}
}
