// Package geocode turns a friend's address into a location by asking a
// search service that speaks the Nominatim API
// (GET {url}/search?q=…&format=jsonv2&limit=1): a self-hosted Nominatim, or
// a Photon or hosted service answering the same requests. A lookup either
// finds a point or says, in people's words, why it did not; it never hands
// back a location it could not check.
package geocode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/routeloop/routeloop/geo"
)

// Why an address has no location. Each error's text is meant for the
// people who read it next to the referral.
var (
	ErrNotFound    = errors.New("the address was not found")
	ErrTimeout     = errors.New("the geocoder did not answer in time")
	ErrBusy        = errors.New("the geocoder was busy with other addresses")
	ErrUnreachable = errors.New("the geocoder could not be reached")
	ErrBadAnswer   = errors.New("the geocoder's answer could not be read")
	ErrCancelled   = errors.New("the sign-up was cancelled before the geocoder answered")
)

// StatusError is an answer with an HTTP error status.
type StatusError struct{ Code int }

func (e *StatusError) Error() string {
	return fmt.Sprintf("the geocoder answered with an error (HTTP %d)", e.Code)
}

// MaxAnswerBytes caps what is read of an answer: one result is well under
// a kilobyte, so a longer answer is not what was asked for.
const MaxAnswerBytes = 64 << 10

// DefaultTimeout bounds a lookup when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Limiter hands out turns to ask the service; *rate.Limiter is one.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Options configure a Client.
type Options struct {
	// URL is the service's address; /search is added to its path (unless
	// it already ends in /search) and its query, such as an API key, is
	// kept.
	URL string
	// UserAgent is sent with every request (Nominatim's usage policy asks
	// for one naming the application).
	UserAgent string
	// Rate is how many lookups a second the client makes at most, one at
	// a time; 0 means no limit.
	Rate float64
	// Timeout bounds one lookup, waiting for its turn included (zero:
	// DefaultTimeout). A lookup that would have to wait longer for its turn
	// is not made (ErrBusy).
	Timeout time.Duration
	// Limiter, when set, replaces the one Rate makes (tests).
	Limiter Limiter
	// HTTP is the client to send requests with (nil: a client of its own).
	HTTP *http.Client
	// Log, when set, hears of failed lookups (never the address).
	Log *slog.Logger
}

// Client looks addresses up. It is safe for concurrent use; the rate limit
// holds across every caller of one Client.
type Client struct {
	search  *url.URL
	agent   string
	timeout time.Duration
	limiter Limiter
	http    *http.Client
	log     *slog.Logger
}

// CheckURL explains why raw cannot be a geocoder's address, or returns nil.
func CheckURL(raw string) error {
	_, err := searchURL(raw)
	return err
}

func searchURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return nil, errors.New("must be an http(s) address such as https://nominatim.example.com")
	}
	if !strings.HasSuffix(u.Path, "/search") {
		u.Path = strings.TrimRight(u.Path, "/") + "/search"
		u.RawPath = ""
	}
	return u, nil
}

// New returns a client for the service at o.URL.
func New(o Options) (*Client, error) {
	u, err := searchURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("geocoder address: %w", err)
	}
	c := &Client{search: u, agent: o.UserAgent, timeout: o.Timeout, limiter: o.Limiter, http: o.HTTP, log: o.Log}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.limiter == nil && o.Rate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(o.Rate), 1)
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Locate finds where address is. The error is one of this package's (or a
// *StatusError) and says why there is no location.
func (c *Client) Locate(ctx context.Context, address string) (geo.Point, error) {
	address = strings.TrimSpace(address)
	if address == "" {
		return geo.Point{}, ErrNotFound
	}
	lctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	p, err := c.locate(lctx, address)
	if err != nil {
		why := explain(ctx, lctx, err)
		level := slog.LevelWarn
		if errors.Is(why, ErrNotFound) || errors.Is(why, ErrCancelled) { // the geocoder did its job
			level = slog.LevelInfo
		}
		c.log.Log(ctx, level, "geocoding an address failed", "geocoder", c.search.Host, "reason", why.Error(), "detail", detail(err))
		err = why
	}
	return p, err
}

func (c *Client) locate(ctx context.Context, address string) (geo.Point, error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return geo.Point{}, ctx.Err()
			}
			return geo.Point{}, ErrBusy // the next turn comes after the deadline
		}
	}
	u := *c.search
	q := u.Query()
	q.Set("q", address)
	q.Set("format", "jsonv2")
	q.Set("limit", "1")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return geo.Point{}, err
	}
	req.Header.Set("Accept", "application/json")
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return geo.Point{}, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxAnswerBytes))
		resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return geo.Point{}, &StatusError{Code: resp.StatusCode}
	}
	return firstPlace(io.LimitReader(resp.Body, MaxAnswerBytes))
}

// explain turns what went wrong into one of the package's errors: the
// lookup's own deadline is a timeout, the caller giving up a cancellation.
func explain(caller, lookup context.Context, err error) error {
	var se *StatusError
	switch {
	case errors.Is(err, ErrNotFound), errors.As(err, &se):
		return err
	case errors.Is(caller.Err(), context.Canceled):
		return ErrCancelled
	case lookup.Err() != nil: // an answer cut short by the deadline too
		return ErrTimeout
	case errors.Is(err, ErrBusy):
		return ErrBusy
	case errors.Is(err, ErrBadAnswer): // the log has the details
		return ErrBadAnswer
	}
	return ErrUnreachable
}

// detail is what the operator's log says of err: a transport error without
// the request's address, which holds the friend's address.
func detail(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// firstPlace reads the first result of a jsonv2 answer (an array of places
// with lat and lon as decimal strings). Only the first result is read; an
// answer cut short by the cap does not parse.
func firstPlace(r io.Reader) (geo.Point, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return geo.Point{}, fmt.Errorf("%w: not JSON (%v)", ErrBadAnswer, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return geo.Point{}, fmt.Errorf("%w: not a list of places", ErrBadAnswer)
	}
	if !dec.More() {
		if _, err := dec.Token(); err != nil { // the closing bracket
			return geo.Point{}, fmt.Errorf("%w: not JSON (%v)", ErrBadAnswer, err)
		}
		return geo.Point{}, ErrNotFound
	}
	var p struct {
		Lat *coordinate `json:"lat"`
		Lon *coordinate `json:"lon"`
	}
	if err := dec.Decode(&p); err != nil {
		return geo.Point{}, fmt.Errorf("%w: the first place is not JSON or longer than %d bytes (%v)", ErrBadAnswer, MaxAnswerBytes, err)
	}
	if p.Lat == nil || p.Lon == nil {
		return geo.Point{}, fmt.Errorf("%w: the first place has no lat and lon", ErrBadAnswer)
	}
	pt := geo.Point{Lat: float64(*p.Lat), Lon: float64(*p.Lon)}
	if geo.CheckLat(pt.Lat) != nil || geo.CheckLon(pt.Lon) != nil {
		return geo.Point{}, fmt.Errorf("%w: lat %v, lon %v is not on the globe", ErrBadAnswer, pt.Lat, pt.Lon)
	}
	return pt, nil
}

// coordinate is a degree given as a decimal string ("45.4655", as
// Nominatim sends it) or as a JSON number (as some compatible services do).
type coordinate float64

func (c *coordinate) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return err
	}
	*c = coordinate(f)
	return nil
}
