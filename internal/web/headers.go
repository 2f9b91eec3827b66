package web

import (
	"embed"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy lets pages load scripts, styles and images only
// from the site (no inline script; inline styles and data: images, which
// the QR codes are, are allowed) and forbids framing them anywhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

// SecurityHeaders sets, on every answer (pages, their error pages, and the
// API alike), the Content-Security-Policy, X-Frame-Options: DENY (for
// browsers without frame-ancestors), X-Content-Type-Options: nosniff and
// Referrer-Policy: same-origin; and X-Robots-Tag: noindex on the
// customers' invoice pages (/i/), the friends' referral pages (/r/) and the
// customers' opt-out pages (/optout/), whose links are private.
func SecurityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if p := c.Request().URL.Path; strings.HasPrefix(p, "/i/") || strings.HasPrefix(p, "/r/") || strings.HasPrefix(p, "/optout/") {
			h.Set("X-Robots-Tag", "noindex, nofollow")
		}
		return next(c)
	}
}

// static holds the favicon and the pages' one script.
//
//go:embed static
var static embed.FS

// staticFile answers one embedded file with its type and a cache lifetime.
func staticFile(name, contentType, cacheControl string) echo.HandlerFunc {
	body, err := static.ReadFile("static/" + name)
	if err != nil {
		panic("web: missing static file " + name)
	}
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", cacheControl)
		return c.Blob(http.StatusOK, contentType, body)
	}
}
