package invoice

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/routeloop/routeloop/internal/text"
)

// MaxPayURL bounds pay_url, in characters.
const MaxPayURL = 2000

// CheckPayURL explains why s cannot be an invoice's pay_url, or returns
// nil. The customer's page links to it, so it must be an absolute http:// or
// https:// address with a host and without a user name or password: a
// javascript:, data: or relative link never reaches the page. "" passes (no
// payment page).
func CheckPayURL(s string) error {
	if s == "" {
		return nil
	}
	if err := text.Check(s, text.Line, MaxPayURL); err != nil {
		return err
	}
	if strings.ContainsAny(s, " \u00a0") {
		return errors.New("must not contain spaces (write them as %20)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("must be an absolute http:// or https:// address, such as https://pay.example.com/inv-2026-0412")
	}
	if u.Scheme != "http" && u.Scheme != "https" { // Parse lower-cases the scheme
		return fmt.Errorf("must be an absolute http:// or https:// address, such as https://pay.example.com/inv-2026-0412 (%s)", kindOf(u))
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return errors.New("must name a host after the scheme, as https://pay.example.com/…")
	}
	if u.User != nil {
		return errors.New("must not carry a user name or password")
	}
	return nil
}

// kindOf names what a refused address is, for the error.
func kindOf(u *url.URL) string {
	if u.Scheme == "" {
		return "a relative address has no scheme"
	}
	return u.Scheme + ": addresses are refused"
}
