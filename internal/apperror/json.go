package apperror

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// FromJSON turns an encoding/json decoding error into the error a caller
// can act on: malformed JSON is a bad request; a wrong type or an unknown
// field is a validation error naming the field (with prefix, e.g. "data.").
func FromJSON(err error, prefix string) error {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	whole := strings.TrimSuffix(prefix, ".")
	switch {
	case errors.Is(err, io.EOF):
		return BadRequest("the body is empty; send a JSON object")
	case errors.As(err, &syntax):
		return BadRequest("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("malformed JSON: the body ends early")
	case errors.As(err, &typeErr):
		if jsonPath(typeErr.Field) == "" {
			if whole == "" {
				return BadRequest("the body must be a JSON object")
			}
			return Invalid(whole, "must be an object")
		}
		return Invalid(prefix+jsonPath(typeErr.Field), fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Invalid(prefix+name, "is not a known field")
	}
	if whole == "" {
		return BadRequest("the body could not be read as JSON: %s", err.Error())
	}
	return BadRequest("%s could not be read as JSON: %s", whole, err.Error())
}

// jsonPath drops the Go names of embedded structs ("VisitInput.price_cents"
// → "price_cents"): JSON names here are snake_case, Go names capitalised.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	out := parts[:0]
	for _, p := range parts {
		if p != "" && (p[0] < 'A' || p[0] > 'Z') {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return goKind
}
