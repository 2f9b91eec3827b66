package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/referral"
)

// actor names who made a decision, for the referral's log.
func actor(c echo.Context) string {
	p := principal(c)
	return fmt.Sprintf("%s key #%d", p.Role, p.KeyID)
}

func referralID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperror.NotFound("referral %s not found", c.Param("id"))
	}
	return id, nil
}

func (a *API) createReferral(c echo.Context) error {
	var in referral.Input
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := a.checkReferral(c.Request().Context(), principal(c), in); err != nil {
		return err
	}
	r, up, err := a.referrals.Create(c.Request().Context(), principal(c).TenantID, actor(c), in)
	if err != nil {
		return err
	}
	if r, err = a.narrowReferral(c.Request().Context(), principal(c), r); err != nil {
		return err
	}
	return upserted(c, up, r)
}

func (a *API) getReferral(c echo.Context) error {
	id, err := referralID(c)
	if err != nil {
		return err
	}
	r, err := a.referrals.Get(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) listReferrals(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	rs, next, err := a.referrals.List(c.Request().Context(), principal(c).TenantID,
		referral.Filter{Status: c.QueryParam("status"), ReferrerID: c.QueryParam("referrer_id")}, p)
	if err != nil {
		return err
	}
	return list(c, "referrals", rs, next)
}

func (a *API) referralDecisions(c echo.Context) error {
	id, err := referralID(c)
	if err != nil {
		return err
	}
	ds, err := a.referrals.Decisions(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"decisions": ds})
}

// decideFn is a review decision of the referral engine.
type decideFn func(ctx context.Context, tenantID string, id int64, actor string, d referral.Decision) (referral.Referral, error)

// review runs one review decision on a referral.
func (a *API) review(c echo.Context, do decideFn) error {
	id, err := referralID(c)
	if err != nil {
		return err
	}
	var d referral.Decision
	if err := decode(c, &d); err != nil {
		return err
	}
	r, err := do(c.Request().Context(), principal(c).TenantID, id, actor(c), d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) approveReferral(c echo.Context) error   { return a.review(c, a.referrals.Approve) }
func (a *API) rejectReferral(c echo.Context) error    { return a.review(c, a.referrals.Reject) }
func (a *API) attributeReferral(c echo.Context) error { return a.review(c, a.referrals.Attribute) }

// putReferralLocation records where the friend of an open referral lives,
// as a dispatcher entered it (no geocoder, or it found nothing).
func (a *API) putReferralLocation(c echo.Context) error {
	id, err := referralID(c)
	if err != nil {
		return err
	}
	var in referral.LocationInput
	if err := decode(c, &in); err != nil {
		return err
	}
	lat, lon, err := in.Point()
	if err != nil {
		return err
	}
	r, err := a.referrals.SetLocation(c.Request().Context(), principal(c).TenantID, id, lat, lon, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) listRewards(c echo.Context) error {
	id := c.QueryParam("customer_id")
	if id == "" {
		return apperror.Invalid("customer_id", "name the customer whose rewards to list")
	}
	rs, err := a.referrals.Rewards(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []referral.Reward{}
	}
	return c.JSON(http.StatusOK, map[string]any{"rewards": rs})
}

func (a *API) referralStatus(c echo.Context) error {
	st, err := a.referrals.ReferralStatus(c.Request().Context(), principal(c).TenantID, c.Param("external_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}
