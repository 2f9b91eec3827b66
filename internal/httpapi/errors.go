package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
)

// errorBody is the one shape of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// IsAPIPath says whether a path belongs to the API (JSON errors) rather
// than to the pages (HTML errors): /api/, the inbound webhooks, the
// health checks and the metrics.
func IsAPIPath(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/hooks/") ||
		path == "/api" || path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// errorHandler answers every failed request with the status apperror.Status
// gives its code: with the JSON error body on the API, with page (when set)
// elsewhere. Errors that are not routeloop's or echo's own are logged and
// hidden behind a 500.
func errorHandler(log *slog.Logger, page func(echo.Context, int, string) error) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var (
			status int
			detail errorDetail
			he     *echo.HTTPError
		)
		if ae, ok := apperror.As(err); ok {
			status = apperror.Status(ae.Code)
			detail = errorDetail{Code: ae.Code, Message: ae.Message, Fields: ae.Fields}
		} else if errors.As(err, &he) {
			status = he.Code
			msg := http.StatusText(he.Code)
			if he.Code == http.StatusNotFound {
				msg = "no such endpoint; see /api/v1/openapi.json"
			}
			if m, ok := he.Message.(string); ok && m != "" && m != http.StatusText(he.Code) {
				msg = m
			}
			detail = errorDetail{Code: apperror.CodeOf(he.Code), Message: msg}
		} else {
			status = http.StatusInternalServerError
		}
		if status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed",
				"error", err.Error(), "route", c.Path(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			detail = errorDetail{Code: apperror.CodeInternal, Message: "something went wrong on our side; it has been logged"}
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		if page != nil && !IsAPIPath(c.Request().URL.Path) {
			if perr := page(c, status, detail.Message); perr == nil {
				return
			} else {
				log.ErrorContext(c.Request().Context(), "error page failed", "error", perr.Error())
			}
		}
		_ = c.JSON(status, errorBody{Error: detail})
	}
}
