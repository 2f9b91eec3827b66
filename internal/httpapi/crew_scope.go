package httpapi

import (
	"context"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/tenant"
)

// crewScope says, for every route a crew key may call, how a crew-bound
// key's request is narrowed to its crew: its crew, the crew's visits, the
// customers with a visit of the crew, its day. An object outside that
// answers exactly as an unknown id does (404 for a path, the same 422 for a
// body), so other crews' ids don't leak. A route missing here refuses
// crew-bound keys (403): a new route is closed to them until it says how it
// is narrowed.
var crewScope = map[string]scopeRule{
	"GET /api/v1/customers":                              narrowedInHandler, // listCustomers
	"GET /api/v1/customers/:external_id":                 pathCustomer,
	"GET /api/v1/customers/:external_id/referral-status": pathCustomer,
	"GET /api/v1/customers/:external_id/referral-links":  pathCustomer,
	"GET /api/v1/crews":                                  narrowedInHandler, // listCrews
	"GET /api/v1/crews/:external_id":                     pathCrew,
	"GET /api/v1/crews/:external_id/today":               pathCrew,
	"GET /api/v1/crews/:external_id/route":               pathCrew,
	"GET /api/v1/visits":                                 narrowedInHandler, // listVisits
	"GET /api/v1/visits/:external_id":                    pathVisit,
	"GET /api/v1/visits/:external_id/rating":             pathVisit,
	"POST /api/v1/visits/:external_id/rating":            pathVisit,
	"POST /api/v1/pitches":                               narrowedInHandler, // logPitch: checkPitch
	"POST /api/v1/referrals":                             narrowedInHandler, // createReferral: checkReferral
	// The company's scripts, leaderboard and team milestones are shared by
	// every crew on purpose (public praise, one goal); they hold no
	// customer data.
	"GET /api/v1/scripts":          tenantWide,
	"GET /api/v1/crew/leaderboard": tenantWide,
	"GET /api/v1/crew/milestones":  tenantWide,
}

// scopeRule checks a crew-bound key's request before its handler runs.
type scopeRule func(a *API, c echo.Context, p tenant.Principal) error

func narrowedInHandler(*API, echo.Context, tenant.Principal) error { return nil }
func tenantWide(*API, echo.Context, tenant.Principal) error        { return nil }

func pathCustomer(a *API, c echo.Context, p tenant.Principal) error {
	return inScope(a.mirror.CustomerOnRoutes(c.Request().Context(), p.TenantID, p.CrewID, c.Param("external_id")))(
		mirror.NotOnRoutes("customer", c.Param("external_id")))
}

func pathCrew(a *API, c echo.Context, p tenant.Principal) error {
	return inScope(a.mirror.IsCrew(c.Request().Context(), p.TenantID, p.CrewID, c.Param("external_id")))(
		mirror.NotOnRoutes("crew", c.Param("external_id")))
}

func pathVisit(a *API, c echo.Context, p tenant.Principal) error {
	return inScope(a.mirror.VisitOfCrew(c.Request().Context(), p.TenantID, p.CrewID, c.Param("external_id")))(
		mirror.NotOnRoutes("visit", c.Param("external_id")))
}

// inScope turns a scope look-up into nil (in scope), the look-up's error,
// or the given "not found".
func inScope(ok bool, err error) func(notFound error) error {
	return func(notFound error) error {
		switch {
		case err != nil:
			return err
		case !ok:
			return notFound
		}
		return nil
	}
}

// checkCrewScope runs the route's rule for a crew-bound key.
func (a *API) checkCrewScope(c echo.Context, p tenant.Principal) error {
	rule, ok := crewScope[c.Request().Method+" "+c.Path()]
	if !ok {
		return &apperror.Error{Code: apperror.CodeForbidden, Message: "a crew-bound key may not do this"}
	}
	return rule(a, c, p)
}

// checkPitch refuses a crew-bound key's pitch at another crew's visit, by
// another crew's member or naming as the friend a customer off its routes,
// exactly as if they did not exist. Ids the pitch's own checks refuse are
// left to them.
func (a *API) checkPitch(ctx context.Context, p tenant.Principal, visitID, memberID string, friend *referral.RefereeInput) error {
	if p.CrewID == 0 {
		return nil
	}
	f := apperror.Fields{}
	if mirror.CheckExternalID(visitID) == nil {
		if ok, err := a.mirror.VisitOfCrew(ctx, p.TenantID, p.CrewID, visitID); err != nil {
			return err
		} else if !ok {
			f.Add("visit_id", "no visit with id "+visitID)
		}
	}
	if err := a.checkMember(ctx, p, memberID, f); err != nil {
		return err
	}
	if friend != nil {
		if err := a.checkFriend(ctx, p, *friend, f); err != nil {
			return err
		}
	}
	return f.Err()
}

// checkReferral refuses a crew-bound key's referral whose referrer is not a
// customer on its routes, whose crew member is another crew's, or whose
// friend is a customer off its routes, as if they did not exist. Such a key
// names the referrer by referrer_id or referrer_code: a name is looked up
// among every customer, which it may not see.
func (a *API) checkReferral(ctx context.Context, p tenant.Principal, in referral.Input) error {
	if p.CrewID == 0 {
		return nil
	}
	f := apperror.Fields{}
	switch {
	case in.ReferrerID != "" && mirror.CheckExternalID(in.ReferrerID) == nil:
		if ok, err := a.mirror.CustomerOnRoutes(ctx, p.TenantID, p.CrewID, in.ReferrerID); err != nil {
			return err
		} else if !ok {
			f.Add("referrer_id", "no customer with id "+in.ReferrerID)
		}
	case in.ReferrerCode != "":
		code, _ := refcode.Normalize(strings.TrimSpace(in.ReferrerCode))
		if ok, err := a.mirror.CodeOnRoutes(ctx, p.TenantID, p.CrewID, code); err != nil {
			return err
		} else if !ok {
			return apperror.NotFound("referral code %s not found", in.ReferrerCode)
		}
	case in.ReferrerName != "":
		f.Add("referrer_name", "a crew-bound key names the referrer by referrer_id or referrer_code of a customer on its crew's routes")
	}
	if err := a.checkMember(ctx, p, in.CrewMemberID, f); err != nil {
		return err
	}
	if err := a.checkFriend(ctx, p, in.Referee, f); err != nil {
		return err
	}
	return f.Err()
}

// checkMember adds to f a crew member id of another crew.
func (a *API) checkMember(ctx context.Context, p tenant.Principal, memberID string, f apperror.Fields) error {
	if memberID == "" || mirror.CheckExternalID(memberID) != nil {
		return nil
	}
	ok, err := a.mirror.MemberOfCrew(ctx, p.TenantID, p.CrewID, memberID)
	if err == nil && !ok {
		f.Add("crew_member_id", "no crew member with id "+memberID)
	}
	return err
}

// checkFriend adds to f a friend named by the id of a customer off the
// crew's routes.
func (a *API) checkFriend(ctx context.Context, p tenant.Principal, friend referral.RefereeInput, f apperror.Fields) error {
	if friend.ExternalID == "" || mirror.CheckExternalID(friend.ExternalID) != nil {
		return nil
	}
	ok, err := a.mirror.CustomerOnRoutes(ctx, p.TenantID, p.CrewID, friend.ExternalID)
	if err == nil && !ok {
		f.Add("referee.customer_id", "no customer with id "+friend.ExternalID)
	}
	return err
}

// narrowReferral keeps out of a crew-bound key's answer what the referral
// engine found about customers off its crew's routes: the friend's customer
// id, visits and distance when the friend is such a customer, and who
// referred the friend first when the referral is a duplicate.
func (a *API) narrowReferral(ctx context.Context, p tenant.Principal, r referral.Referral) (referral.Referral, error) {
	if p.CrewID == 0 {
		return r, nil
	}
	if id := r.Referee.CustomerID; id != nil {
		ok, err := a.mirror.CustomerOnRoutes(ctx, p.TenantID, p.CrewID, *id)
		if err != nil {
			return r, err
		}
		if !ok {
			r.Referee.CustomerID, r.DistanceM = nil, nil // the distance is to that customer's home
			flags := make([]referral.Flag, len(r.Flags))
			for i, f := range r.Flags {
				if f.Code == referral.FlagAlreadyCustomer {
					f.Reason = "the friend was already a customer before the referral"
				}
				flags[i] = f
			}
			r.Flags = flags
		}
	}
	if r.Status == referral.StatusDuplicate {
		r.Note = "duplicate: this friend was already referred by another customer; the first referral wins"
	}
	return r, nil
}
