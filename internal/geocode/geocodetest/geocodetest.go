// Package geocodetest is a stand-in geocoder for tests: a local HTTP server
// answering the Nominatim search API (GET /search?q=…&format=jsonv2&limit=1)
// for a fixed set of addresses, and an empty list for any other. Point
// routeloop's geocoder_url at its URL.
package geocodetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/routeloop/routeloop/geo"
)

// Query is one request the server answered.
type Query struct {
	Address   string // the q parameter
	Format    string
	Limit     string
	UserAgent string
}

// Server is the stand-in geocoder.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	places  map[string]geo.Point
	status  int
	queries []Query
}

// New starts a geocoder that knows places (address → point; addresses match
// without regard to case or runs of spaces), closed when the test ends.
func New(t testing.TB, places map[string]geo.Point) *Server {
	t.Helper()
	s := &Server{places: map[string]geo.Point{}}
	for a, p := range places {
		s.places[normal(a)] = p
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Add teaches the server one more address.
func (s *Server) Add(address string, p geo.Point) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.places[normal(address)] = p
}

// Fail makes every later answer an HTTP error of that status (0: answer
// normally again).
func (s *Server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Queries lists the requests answered so far, oldest first.
func (s *Server) Queries() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Query(nil), s.queries...)
}

func normal(address string) string {
	return strings.ToLower(strings.Join(strings.Fields(address), " "))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.queries = append(s.queries, Query{Address: q.Get("q"), Format: q.Get("format"), Limit: q.Get("limit"), UserAgent: r.UserAgent()})
	status := s.status
	p, found := s.places[normal(q.Get("q"))]
	s.mu.Unlock()
	switch {
	case status != 0:
		http.Error(w, http.StatusText(status), status)
		return
	case r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/search"):
		http.NotFound(w, r)
		return
	case q.Get("format") != "jsonv2" || q.Get("q") == "":
		http.Error(w, `{"error":{"code":400,"message":"Parameter 'format' must be jsonv2 here, and q is required"}}`, http.StatusBadRequest)
		return
	}
	places := []map[string]any{}
	if found {
		places = append(places, map[string]any{
			"place_id":     1,
			"lat":          strconv.FormatFloat(p.Lat, 'f', -1, 64),
			"lon":          strconv.FormatFloat(p.Lon, 'f', -1, 64),
			"display_name": q.Get("q"),
			"category":     "place",
			"type":         "house",
		})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(places)
}
