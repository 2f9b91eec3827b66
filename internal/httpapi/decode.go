package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

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
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return apperror.FromJSON(err, "")
}
