package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/user"
)

// staffData is what every staff page has: who is signed in (for the bar
// with the sign-out button, whose form carries Staff.CSRFToken).
type staffData struct {
	Staff user.Principal
	Title string
}

// placeholder is a staff page that, for now, says who is signed in; the
// real /admin, /dispatch and /crew/today replace it.
func (p *Pages) placeholder(title string) echo.HandlerFunc {
	return func(c echo.Context) error {
		pr, _ := Staff(c)
		return p.render(c, http.StatusOK, "staff", staffData{Staff: pr, Title: title})
	}
}
