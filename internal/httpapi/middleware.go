package httpapi

import (
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/tenant"
)

const principalKey = "routeloop.principal"

// principal returns who the request acts as; set by authenticate.
func principal(c echo.Context) tenant.Principal {
	p, _ := c.Get(principalKey).(tenant.Principal)
	return p
}

var errNoKey = &apperror.Error{Code: apperror.CodeUnauthorized,
	Message: "send an API key as: Authorization: Bearer <key>"}

// allow authenticates the bearer key (401 when missing, unknown or revoked)
// and lets only the given roles through (403); admin is always allowed. A
// crew-bound key is narrowed to its crew by the route's crewScope rule.
func (a *API) allow(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, key, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
				return errNoKey
			}
			p, err := a.tenants.Authenticate(c.Request().Context(), strings.TrimSpace(key))
			if err != nil {
				return err
			}
			c.Set(principalKey, p)
			if p.Role == tenant.RoleAdmin {
				return next(c)
			}
			for _, r := range roles {
				if r != p.Role {
					continue
				}
				if p.CrewID != 0 {
					if err := a.checkCrewScope(c, p); err != nil {
						return err
					}
				}
				return next(c)
			}
			return &apperror.Error{Code: apperror.CodeForbidden,
				Message: fmt.Sprintf("a %s key may not do this", p.Role)}
		}
	}
}

// expensive lets each API key make only so many expensive requests a
// minute; beyond that it answers 429 with Retry-After (whole seconds).
// It runs after allow, which names the key.
func (a *API) expensive(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ok, wait := a.expensiveLimit.Allow(principal(c).KeyID)
		if ok {
			return next(c)
		}
		secs := int(math.Ceil(wait.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return &apperror.Error{Code: apperror.CodeTooManyRequests,
			Message: fmt.Sprintf("this key has used its expensive requests for now (route optimisation, suggestions, insights, batch import); try again in %d s", secs)}
	}
}

// logRequests writes one structured line per request.
func logRequests(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			if !log.Enabled(c.Request().Context(), level) {
				return nil
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("tenant_id", principal(c).TenantID),
				slog.String("method", c.Request().Method),
				slog.String("route", c.Path()),
				slog.Int("status", status),
				slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			)
			return nil
		}
	}
}

// recoverJSON turns a panic into a logged JSON 500 instead of a dropped
// connection.
func recoverJSON(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					log.Error("panic in handler", "panic", fmt.Sprint(r), "route", c.Path(),
						"stack", string(debug.Stack()))
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return next(c)
		}
	}
}
