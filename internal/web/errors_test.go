package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// assertHTMLPage fails unless rec is an HTML page with the status, saying
// says, and with nothing of the API's JSON error body in it.
func assertHTMLPage(t *testing.T, what string, rec *httptest.ResponseRecorder, status int, says string) {
	t.Helper()
	body := rec.Body.String()
	if rec.Code != status || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("%s: %d %q, want %d text/html\n%.600s", what, rec.Code, rec.Header().Get("Content-Type"), status, body)
		return
	}
	if strings.Contains(body, `{"error"`) || !strings.Contains(body, says) {
		t.Errorf("%s: the page does not say %q (or shows the API's JSON)\n%.1500s", what, says, body)
	}
}

// A page that meets one of routeloop's errors answers HTML, never the
// API's JSON, with the status apperror.Status gives the error's code: a
// day that is not a date on the crew's page and the cards page is a 422
// (a validation failure, as on the API), an unknown crew a 404.
func TestPagesAnswerAnErrorWithItsStatusAsHTML(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		x.route()
		crewLogin := x.session("marisol@greenway.example")
		dispatcher := x.session("dispatcher@greenway.example")
		for _, c := range []struct {
			what, path string
			who        *http.Cookie
			status     int
			says       string
		}{
			{"the crew's own day, not a date", "/crew/today?date=2026-13-40", crewLogin, http.StatusUnprocessableEntity, "The day "},
			{"a crew's day for a dispatcher, not a date", "/crew/today?crew=crew-a&date=2026-13-40", dispatcher, http.StatusUnprocessableEntity, "The day "},
			{"a crew's cards, not a date", "/cards?crew=crew-a&date=2026-13-40", dispatcher, http.StatusUnprocessableEntity, "The day "},
			{"an unknown crew's cards", "/cards?crew=nope&date=2026-05-01", dispatcher, http.StatusNotFound, "Crew nope not found."},
			{"an unknown crew's day", "/crew/today?crew=nope", dispatcher, http.StatusNotFound, "Crew nope not found."},
		} {
			assertHTMLPage(t, c.what, x.get(c.path, c.who), c.status, c.says)
		}
	})
}

// Whatever routeloop error a page handler returns, the answer is the
// HTML error page with the status apperror.Status gives its code; the
// same error from an API route is the API's JSON body with that status.
func TestEveryErrorCodeIsAPageOnPagesAndJSONOnTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		failWith := func(c echo.Context) error {
			return &apperror.Error{Code: c.Param("code"), Message: "that went wrong for " + c.Param("code")}
		}
		x.a.HTTP.GET("/test/fails/:code", failWith)
		x.a.HTTP.GET("/api/v1/test/fails/:code", failWith)
		for _, code := range []string{apperror.CodeValidation, apperror.CodeUnprocessable, apperror.CodeBadRequest,
			apperror.CodeNotFound, apperror.CodeConflict, apperror.CodeUnauthorized, apperror.CodeForbidden,
			apperror.CodeTooLarge, apperror.CodeMediaType, apperror.CodeMethodNotAllowed, apperror.CodeTooManyRequests} {
			status := apperror.Status(code)
			if status < 400 || status >= 500 {
				t.Fatalf("%s is %d, not a 4xx", code, status)
			}
			page := x.get("/test/fails/" + code)
			if page.Code != status || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") ||
				strings.Contains(page.Body.String(), `{"error"`) || !strings.Contains(page.Body.String(), "<h1") {
				t.Errorf("page, %s: %d %q, want %d HTML\n%.600s", code, page.Code, page.Header().Get("Content-Type"), status, page.Body.String())
			}
			api := x.get("/api/v1/test/fails/" + code)
			var body struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(api.Body.Bytes(), &body); err != nil || api.Code != status || body.Error.Code != code ||
				body.Error.Message != "that went wrong for "+code {
				t.Errorf("API, %s: %d %s", code, api.Code, api.Body.String())
			}
		}
	})
}
