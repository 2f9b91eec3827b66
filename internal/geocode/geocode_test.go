package geocode_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/geocode"
	"github.com/routeloop/routeloop/internal/geocode/geocodetest"
)

// answering is a geocoder that answers every request with status and body.
func answering(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func client(t *testing.T, o geocode.Options) *geocode.Client {
	t.Helper()
	c, err := geocode.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Angie's street is known: the point is the first place of the answer, and
// the request is the Nominatim search the service expects — the address in
// q (URL-encoded), format=jsonv2, limit=1, our User-Agent — under the
// service's own path, keeping its query (an API key).
func TestAFoundAddressIsTheFirstPlaceOfTheAnswer(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		_, _ = w.Write([]byte(`[{"place_id":9,"lat":"45.4655","lon":"-122.6501","display_name":"14, Maple Street"},
			{"place_id":10,"lat":"1","lon":"1"}]`))
	}))
	defer srv.Close()
	c := client(t, geocode.Options{URL: srv.URL + "/nominatim/?key=k-1", UserAgent: "routeloop-test (ops@example.com)"})
	address := "14 Maple St, Portland & Co?/#1"
	p, err := c.Locate(context.Background(), address)
	if err != nil {
		t.Fatal(err)
	}
	if p != (geo.Point{Lat: 45.4655, Lon: -122.6501}) {
		t.Fatalf("point %+v, want the first place", p)
	}
	if got.URL.Path != "/nominatim/search" {
		t.Fatalf("path %q, want /nominatim/search", got.URL.Path)
	}
	q := got.URL.Query()
	if q.Get("q") != address || q.Get("format") != "jsonv2" || q.Get("limit") != "1" || q.Get("key") != "k-1" {
		t.Fatalf("query %v", q)
	}
	if !strings.Contains(got.URL.RawQuery, "q=14+Maple+St%2C+Portland+%26+Co%3F%2F%231") {
		t.Fatalf("the address is not URL-encoded in q: %s", got.URL.RawQuery)
	}
	if got.UserAgent() != "routeloop-test (ops@example.com)" {
		t.Fatalf("User-Agent %q", got.UserAgent())
	}

	// A service that sends numbers rather than strings is read too.
	numbers := answering(t, 200, `[{"lat":45.5,"lon":-122.5}]`)
	if p, err := client(t, geocode.Options{URL: numbers.URL}).Locate(context.Background(), "x"); err != nil || p != (geo.Point{Lat: 45.5, Lon: -122.5}) {
		t.Fatalf("numbers: %+v %v", p, err)
	}
}

func TestTheFakeGeocoderAnswersItsAddresses(t *testing.T) {
	fake := geocodetest.New(t, map[string]geo.Point{"14 Maple St, Portland": {Lat: 45.4655, Lon: -122.6501}})
	c := client(t, geocode.Options{URL: fake.URL, UserAgent: "ua"})
	if p, err := c.Locate(context.Background(), "  14 maple st,   PORTLAND "); err != nil || p != (geo.Point{Lat: 45.4655, Lon: -122.6501}) {
		t.Fatalf("known address: %+v %v", p, err)
	}
	if _, err := c.Locate(context.Background(), "1 Nowhere Rd"); !errors.Is(err, geocode.ErrNotFound) {
		t.Fatalf("unknown address: %v", err)
	}
	fake.Fail(http.StatusServiceUnavailable)
	if _, err := c.Locate(context.Background(), "14 Maple St, Portland"); err == nil || err.Error() != "the geocoder answered with an error (HTTP 503)" {
		t.Fatalf("failing: %v", err)
	}
	qs := fake.Queries()
	if len(qs) != 3 || qs[1].Address != "1 Nowhere Rd" || qs[1].Format != "jsonv2" || qs[1].Limit != "1" || qs[1].UserAgent != "ua" {
		t.Fatalf("queries %+v", qs)
	}
}

func TestAnEmptyAnswerIsNotFound(t *testing.T) {
	srv := answering(t, 200, "[]\n")
	_, err := client(t, geocode.Options{URL: srv.URL}).Locate(context.Background(), "1 Nowhere Rd")
	if !errors.Is(err, geocode.ErrNotFound) || err.Error() != "the address was not found" {
		t.Fatalf("empty answer: %v", err)
	}
}

func TestAnErrorStatusSaysWhichOne(t *testing.T) {
	for _, status := range []int{500, 503, 429, 400} {
		srv := answering(t, status, `{"error":"down"}`)
		_, err := client(t, geocode.Options{URL: srv.URL}).Locate(context.Background(), "14 Maple St")
		var se *geocode.StatusError
		if !errors.As(err, &se) || se.Code != status || !strings.Contains(err.Error(), "answered with an error (HTTP ") {
			t.Fatalf("HTTP %d: %v", status, err)
		}
	}
}

// A geocoder that does not answer within the timeout is given up on; the
// caller is not held.
func TestASlowGeocoderTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := client(t, geocode.Options{URL: srv.URL, Timeout: 50 * time.Millisecond})
	_, err := c.Locate(context.Background(), "14 Maple St")
	if !errors.Is(err, geocode.ErrTimeout) || err.Error() != "the geocoder did not answer in time" {
		t.Fatalf("slow geocoder: %v", err)
	}

	// The caller giving up is not the geocoder's fault.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if _, err := client(t, geocode.Options{URL: srv.URL, Timeout: time.Minute}).Locate(ctx, "14 Maple St"); !errors.Is(err, geocode.ErrCancelled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestAGeocoderThatIsNotThereIsUnreachable(t *testing.T) {
	srv := answering(t, 200, "[]")
	url := srv.URL
	srv.Close()
	if _, err := client(t, geocode.Options{URL: url}).Locate(context.Background(), "14 Maple St"); !errors.Is(err, geocode.ErrUnreachable) {
		t.Fatalf("closed: %v", err)
	}
}

// Nothing but a checked point comes back: not JSON, another shape, missing
// or unreadable coordinates, a place off the globe, an answer cut short or
// far longer than one place are all "could not be read".
func TestAnAnswerThatIsNotAPlaceIsRefused(t *testing.T) {
	long := `[{"lat":"45.1","lon":"-122.1","display_name":"` + strings.Repeat("x", geocode.MaxAnswerBytes) + `"}]`
	for name, body := range map[string]string{
		"html":            "<html>Service Unavailable</html>",
		"empty":           "",
		"object":          `{"error":"Unable to geocode"}`,
		"truncated":       `[{"lat":"45.1","lon":"-122`,
		"no lon":          `[{"lat":"45.1"}]`,
		"null lat":        `[{"lat":null,"lon":"-122.1"}]`,
		"words":           `[{"lat":"north","lon":"-122.1"}]`,
		"lat 91":          `[{"lat":"91","lon":"-122.1"}]`,
		"lon -180.5":      `[{"lat":"45","lon":"-180.5"}]`,
		"NaN":             `[{"lat":"NaN","lon":"1"}]`,
		"Inf":             `[{"lat":"45","lon":"Inf"}]`,
		"not a place":     `["45.1,-122.1"]`,
		"too long":        long,
		"list of lists":   `[[45.1,-122.1]]`,
		"string answer":   `"45.1,-122.1"`,
		"bracket, no end": `[`,
	} {
		srv := answering(t, 200, body)
		p, err := client(t, geocode.Options{URL: srv.URL}).Locate(context.Background(), "14 Maple St")
		if !errors.Is(err, geocode.ErrBadAnswer) || err.Error() != "the geocoder's answer could not be read" {
			t.Errorf("%s: %+v %v", name, p, err)
		}
	}
}

// events is a log shared by a limiter and a server, to see their order.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

type recordingLimiter struct{ *events }

func (l recordingLimiter) Wait(context.Context) error { l.add("wait"); return nil }

// Every lookup waits for its turn before it asks.
func TestEveryLookupWaitsForItsTurnFirst(t *testing.T) {
	ev := &events{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev.add("ask")
		_, _ = w.Write([]byte("[]"))
	}))
	defer srv.Close()
	c := client(t, geocode.Options{URL: srv.URL, Limiter: recordingLimiter{ev}})
	for range 3 {
		c.Locate(context.Background(), "14 Maple St")
	}
	if got := strings.Join(ev.log, ","); got != "wait,ask,wait,ask,wait,ask" {
		t.Fatalf("order %s", got)
	}
}

// At 20 a second, four lookups take at least three intervals of 50 ms,
// however many callers there are; a lookup whose turn would come after its
// timeout is not made at all.
func TestTheRateHoldsAcrossCallers(t *testing.T) {
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		_, _ = w.Write([]byte(`[{"lat":"1","lon":"2"}]`))
	}))
	defer srv.Close()
	c := client(t, geocode.Options{URL: srv.URL, Rate: 20})
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.Locate(context.Background(), "14 Maple St"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if took := time.Since(start); took < 140*time.Millisecond {
		t.Fatalf("4 lookups at 20 a second took %v, want at least 150 ms", took)
	}
	if asked.Load() != 4 {
		t.Fatalf("asked %d times", asked.Load())
	}

	asked.Store(0)
	slow := client(t, geocode.Options{URL: srv.URL, Rate: 1, Timeout: 50 * time.Millisecond})
	if _, err := slow.Locate(context.Background(), "14 Maple St"); err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Locate(context.Background(), "15 Maple St"); !errors.Is(err, geocode.ErrBusy) {
		t.Fatalf("second lookup within the second: %v", err)
	}
	if asked.Load() != 1 {
		t.Fatalf("the geocoder was asked %d times in a second at 1 a second", asked.Load())
	}
}

func TestTheGeocodersAddressIsChecked(t *testing.T) {
	for _, bad := range []string{"", "nominatim.example.com", "ftp://nominatim.example.com", "https://", "https://x.example/#a", "://x"} {
		if geocode.CheckURL(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
		if _, err := geocode.New(geocode.Options{URL: bad}); err == nil {
			t.Errorf("New(%q) made a client", bad)
		}
	}
	for _, good := range []string{"http://127.0.0.1:8088", "https://nominatim.example.com/search", "https://eu1.example.com/v1?key=k", "https://ops:secret@geo.internal"} {
		if err := geocode.CheckURL(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}
