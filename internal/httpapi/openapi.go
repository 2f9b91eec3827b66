package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPISpec is the contract as implemented; a test checks it against the
// routes that exist.
//
//go:embed openapi.json
var openAPISpec []byte

func (a *API) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPISpec)
}
