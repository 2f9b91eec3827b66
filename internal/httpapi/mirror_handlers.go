package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

func page(c echo.Context) (store.Page, error) {
	return store.ParsePage(c.QueryParam("limit"), c.QueryParam("cursor"))
}

// list answers a list endpoint: {"<name>": [...], "next_cursor": "..."}.
func list[T any](c echo.Context, name string, items []T, next string) error {
	if items == nil {
		items = []T{}
	}
	return c.JSON(http.StatusOK, map[string]any{name: items, "next_cursor": next})
}

func (a *API) putCustomer(c echo.Context) error {
	var body mirror.CustomerJSON // tells a consent left out from one sent false
	if err := decode(c, &body); err != nil {
		return err
	}
	cu, up, err := a.mirror.PutCustomer(c.Request().Context(), principal(c).TenantID, c.Param("external_id"), body.Input())
	if err != nil {
		return err
	}
	return upserted(c, up, cu)
}

func (a *API) getCustomer(c echo.Context) error {
	cu, err := a.mirror.Customer(c.Request().Context(), principal(c).TenantID, c.Param("external_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cu)
}

// referralLinks answers the customer's code, plain link, a link per
// channel and the marketing opt-out link (left out for crew keys: a crew
// tablet has no business stopping someone's messages).
func (a *API) referralLinks(c echo.Context) error {
	pr := principal(c)
	l, err := a.mirror.ReferralLinks(c.Request().Context(), pr.TenantID, c.Param("external_id"))
	if err != nil {
		return err
	}
	if pr.Role == tenant.RoleCrew {
		l.OptOutURL = ""
	}
	return c.JSON(http.StatusOK, l)
}

func (a *API) listCustomers(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	var f mirror.CustomerFilter
	if s := c.QueryParam("updated_since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return apperror.Invalid("updated_since", "must be an RFC 3339 time such as 2026-05-03T00:00:00Z")
		}
		f.UpdatedSince = &t
	}
	f.OnRoutesOf = principal(c).CrewID
	cs, next, err := a.mirror.Customers(c.Request().Context(), principal(c).TenantID, f, p)
	if err != nil {
		return err
	}
	return list(c, "customers", cs, next)
}

func (a *API) putCrew(c echo.Context) error {
	var in mirror.CrewInput
	if err := decode(c, &in); err != nil {
		return err
	}
	cr, up, err := a.mirror.PutCrew(c.Request().Context(), principal(c).TenantID, c.Param("external_id"), in)
	if err != nil {
		return err
	}
	return upserted(c, up, cr)
}

func (a *API) getCrew(c echo.Context) error {
	cr, err := a.mirror.Crew(c.Request().Context(), principal(c).TenantID, c.Param("external_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cr)
}

func (a *API) listCrews(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	ctx, pr := c.Request().Context(), principal(c)
	var cs []mirror.Crew
	var next string
	if pr.CrewID != 0 { // a crew-bound key lists its own crew only
		cs, next, err = a.mirror.CrewOnly(ctx, pr.TenantID, pr.CrewID, p)
	} else {
		cs, next, err = a.mirror.Crews(ctx, pr.TenantID, p)
	}
	if err != nil {
		return err
	}
	return list(c, "crews", cs, next)
}

func (a *API) putVisit(c echo.Context) error {
	var in mirror.VisitInput
	if err := decode(c, &in); err != nil {
		return err
	}
	pr := principal(c)
	v, up, err := a.mirror.PutVisit(c.Request().Context(), pr.TenantID, pr.Location, c.Param("external_id"), in)
	if err != nil {
		return err
	}
	return upserted(c, up, v)
}

func (a *API) getVisit(c echo.Context) error {
	v, err := a.mirror.Visit(c.Request().Context(), principal(c).TenantID, c.Param("external_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (a *API) listVisits(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	f, err := mirror.ParseVisitFilter(c.QueryParam("from"), c.QueryParam("to"),
		c.QueryParam("crew_id"), c.QueryParam("customer_id"), c.QueryParam("status"))
	if err != nil {
		return err
	}
	f.OfCrew = principal(c).CrewID
	vs, next, err := a.mirror.Visits(c.Request().Context(), principal(c).TenantID, f, p)
	if err != nil {
		return err
	}
	return list(c, "visits", vs, next)
}

func (a *API) putInvoice(c echo.Context) error {
	var in invoice.Input
	if err := decode(c, &in); err != nil {
		return err
	}
	pr := principal(c)
	inv, up, err := a.invoices.Put(c.Request().Context(), pr.TenantID, pr.Currency, c.Param("external_id"), in)
	if err != nil {
		return err
	}
	return upserted(c, up, inv)
}

// getInvoice answers with the invoice as encoded once per version of it
// (invoice.Encoded); ?pretty encodes it indented, as every answer.
func (a *API) getInvoice(c echo.Context) error {
	ctx, tenantID, id := c.Request().Context(), principal(c).TenantID, c.Param("external_id")
	if _, pretty := c.QueryParams()["pretty"]; pretty {
		inv, err := a.invoices.Get(ctx, tenantID, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, inv)
	}
	body, err := a.invoices.Encoded(ctx, tenantID, id)
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, body)
}

func (a *API) listInvoices(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	f, err := invoice.ParseFilter(c.QueryParam("customer_id"), c.QueryParam("status"))
	if err != nil {
		return err
	}
	invs, next, err := a.invoices.List(c.Request().Context(), principal(c).TenantID, f, p)
	if err != nil {
		return err
	}
	return list(c, "invoices", invs, next)
}

// rotateInvoiceLink gives the invoice a new customer link. It takes no body;
// one that is sent must be JSON and empty ({}).
func (a *API) rotateInvoiceLink(c echo.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	inv, err := a.invoices.RotateLink(c.Request().Context(), principal(c).TenantID, c.Param("external_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, inv)
}
