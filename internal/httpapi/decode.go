package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

var errTooLarge = &apperror.Error{Code: apperror.CodeTooLarge, Message: "the request body is larger than 1 MiB"}

// decode reads a JSON body into v strictly: one object, no unknown fields, no
// trailing data, at most 1 MiB. Each failure names what is wrong. The
// Content-Type is not checked: the body must be JSON whatever it claims.
func decode(c echo.Context, v any) error {
	req := c.Request()
	if req.ContentLength > MaxBodyBytes {
		return errTooLarge
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), req.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return apperror.BadRequest("the body must hold exactly one JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
		mbe     *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return errTooLarge
	case errors.Is(err, io.EOF):
		return apperror.BadRequest("the request body is empty; send a JSON object")
	case errors.As(err, &syntax):
		return apperror.BadRequest("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperror.BadRequest("malformed JSON: the body ends early")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return apperror.BadRequest("the body must be a JSON object")
		}
		return apperror.Invalid(field, fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperror.Invalid(name, "is not a known field")
	}
	return apperror.BadRequest("the body could not be read as JSON: %s", err.Error())
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
