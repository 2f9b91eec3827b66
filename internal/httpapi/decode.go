package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

var errTooLarge = &apperror.Error{Code: apperror.CodeTooLarge, Message: "the request body is larger than 1 MiB"}

// decode reads a JSON body into v strictly: sent as application/json, one
// object, no unknown fields, no trailing data, at most 1 MiB. Each failure
// names what is wrong; a field by its full path (members[0].name).
func decode(c echo.Context, v any) error {
	return decodeUpTo(c, v, MaxBodyBytes, errTooLarge)
}

// decodeLarge is decode with a larger body limit, for bulk endpoints.
func decodeLarge(c echo.Context, v any, limit int64) error {
	return decodeUpTo(c, v, limit, &apperror.Error{Code: apperror.CodeTooLarge,
		Message: "the request body is larger than " + strconv.FormatInt(limit>>20, 10) + " MiB; split it into several calls"})
}

func decodeUpTo(c echo.Context, v any, limit int64, tooLarge error) error {
	if err := requireJSON(c.Request()); err != nil {
		return err
	}
	body, err := readBody(c, limit, tooLarge)
	if err != nil {
		return err
	}
	return apperror.DecodeJSON(body, v, "")
}

// requireJSON refuses, before the body is read, a request whose
// Content-Type is not JSON: application/json or application/*+json, any
// case, parameters such as charset allowed. A missing Content-Type is
// refused too: curl -d, for one, sends a form type unless told otherwise.
func requireJSON(r *http.Request) error {
	sent := r.Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(sent)
	if err == nil && (mt == echo.MIMEApplicationJSON ||
		strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return nil
	}
	msg := "the body must be JSON sent with Content-Type: application/json"
	if sent == "" {
		msg = "the request has no Content-Type; send the JSON body with Content-Type: application/json"
	} else if err == nil {
		msg = "Content-Type " + mt + " is not accepted; send the JSON body with Content-Type: application/json"
	}
	return &apperror.Error{Code: apperror.CodeMediaType, Message: msg}
}

// emptyBody accepts an action's missing body (any or no Content-Type); a
// body that is sent is held to the JSON rules and must be the empty object.
func emptyBody(c echo.Context) error {
	req := c.Request()
	if req.ContentLength == 0 || req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	body, err := readBody(c, MaxBodyBytes, errTooLarge)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := requireJSON(req); err != nil {
		return err
	}
	var none struct{}
	return apperror.DecodeJSON(body, &none, "")
}

// readBody reads the raw body, answering tooLarge past limit bytes.
func readBody(c echo.Context, limit int64, tooLarge error) ([]byte, error) {
	req := c.Request()
	if req.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, apperror.BadRequest("the body could not be read")
	}
	return body, nil
}
