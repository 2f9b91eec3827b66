package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/csvexport"
	"github.com/routeloop/routeloop/internal/insight"
)

// insightRange reads the optional from and to days.
func insightRange(c echo.Context) (insight.Range, error) {
	var r insight.Range
	var err error
	if r.From, err = dateParam(c, "from"); err != nil {
		return r, err
	}
	r.To, err = dateParam(c, "to")
	return r, err
}

// table is an insight that can also be answered as CSV.
type table interface {
	Table() ([]string, [][]string)
}

// answerTable answers JSON, or CSV with a header row when asked by
// ?format=csv or Accept: text/csv (through csvexport: a byte order mark
// first, cells that would start a formula quoted).
func answerTable(c echo.Context, v table) error {
	format := c.QueryParam("format")
	if format == "" && strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv") {
		format = "csv"
	}
	switch format {
	case "", "json":
		return c.JSON(http.StatusOK, v)
	case "csv":
	default:
		return apperror.Invalid("format", "must be json or csv")
	}
	header, rows := v.Table()
	c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	return csvexport.Write(c.Response(), header, rows)
}

// checkFormat refuses an unknown format before any work is done.
func checkFormat(c echo.Context) error {
	if f := c.QueryParam("format"); f != "" && f != "json" && f != "csv" {
		return apperror.Invalid("format", "must be json or csv")
	}
	return nil
}

func (a *API) kpis(c echo.Context) error {
	r, err := insightRange(c)
	if err != nil {
		return err
	}
	if err := checkFormat(c); err != nil {
		return err
	}
	q := insight.KPIQuery{Range: r, GroupBy: c.QueryParam("group"), Field: "group"}
	if q.GroupBy == "" { // the older name of the parameter
		q.GroupBy, q.Field = c.QueryParam("group_by"), "group_by"
	}
	k, err := a.insights.KPIs(c.Request().Context(), principal(c).TenantID, q)
	if err != nil {
		return err
	}
	return answerTable(c, k)
}

func (a *API) abTest(c echo.Context) error {
	r, err := insightRange(c)
	if err != nil {
		return err
	}
	if err := checkFormat(c); err != nil {
		return err
	}
	ab, err := a.insights.AB(c.Request().Context(), principal(c).TenantID, insight.ABQuery{Range: r, Kind: c.QueryParam("kind")})
	if err != nil {
		return err
	}
	return answerTable(c, ab)
}

func (a *API) wordOfMouth(c echo.Context) error {
	r, err := insightRange(c)
	if err != nil {
		return err
	}
	if err := checkFormat(c); err != nil {
		return err
	}
	w, err := a.insights.WordOfMouth(c.Request().Context(), principal(c).TenantID, r)
	if err != nil {
		return err
	}
	return answerTable(c, w)
}
