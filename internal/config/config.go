// Package config reads routeloop's settings: built-in defaults, then a YAML
// file (configs/routeloop.yaml), then ROUTELOOP_* environment variables, then
// command-line flags. Invalid settings stop start-up with a message naming
// the setting.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/routeloop/routeloop/internal/geocode"
)

// Config is every setting. The yaml tag is the file key; the environment
// variable is ROUTELOOP_ followed by the key in capitals.
type Config struct {
	// Addr is where the HTTP server listens.
	Addr string `yaml:"addr"`
	// DataDir holds the embedded SQLite database.
	DataDir string `yaml:"data_dir"`
	// DatabaseURL selects PostgreSQL (postgres://...); empty means SQLite.
	DatabaseURL string `yaml:"database_url"`
	// DBMaxConns bounds the PostgreSQL connection pool.
	DBMaxConns int `yaml:"db_max_conns"`
	// BaseURL is the public address used in referral links and customer
	// pages; empty means http://<addr>.
	BaseURL string `yaml:"base_url"`
	// AutoMigrate applies pending migrations when the server starts.
	AutoMigrate bool `yaml:"auto_migrate"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format"`
	// ShutdownTimeout is how long in-flight requests get on stop.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// AuthCacheTTL is how long a resolved API key is remembered; a key
	// revoked on another replica or by the CLI keeps working this long.
	// 0 looks every key up.
	AuthCacheTTL time.Duration `yaml:"auth_cache_ttl"`
	// Jobs runs the scheduled work (nightly reconciliation) in this process.
	// Safe on every replica: each piece of work is done by one of them.
	Jobs bool `yaml:"jobs"`
	// ReconcileHour is the tenant-local hour (0–23) at which the previous
	// day's sync discounts are reconciled.
	ReconcileHour int `yaml:"reconcile_hour"`
	// WebhooksAllowPrivate lets tenants' webhook endpoints point at loopback
	// and private addresses (off by default: no SSRF into the network).
	WebhooksAllowPrivate bool `yaml:"webhooks_allow_private"`
	// TrustedProxies are the addresses (CIDR ranges, or single addresses)
	// of the reverse proxies in front of routeloop. X-Forwarded-For and
	// X-Forwarded-Proto are believed only from them; empty (the default)
	// believes no forwarding header: the client is the connection's peer.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ExpensiveRequestsPerMinute is how many expensive requests (route
	// optimisation, suggestions, insights and their CSV, batch import) one
	// API key may make a minute in one process, with a burst of as many;
	// 0 turns the limit off.
	ExpensiveRequestsPerMinute int `yaml:"expensive_requests_per_minute"`
	// Metrics serves Prometheus metrics at GET /metrics.
	Metrics bool `yaml:"metrics"`
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string `yaml:"metrics_token"`
	// GeocoderURL is a search service speaking the Nominatim API that turns
	// a friend's address into a location at sign-up; empty: no geocoder.
	GeocoderURL string `yaml:"geocoder_url"`
	// GeocoderUserAgent is sent as User-Agent to the geocoder.
	GeocoderUserAgent string `yaml:"geocoder_user_agent"`
	// GeocoderRate is how many lookups a second one process makes at most
	// (Nominatim's own service allows 1); 0: no limit.
	GeocoderRate float64 `yaml:"geocoder_rate"`
	// GeocoderTimeout bounds one lookup, its wait for a turn included: the
	// friend's sign-up waits this long at most, then is recorded without a
	// location.
	GeocoderTimeout time.Duration `yaml:"geocoder_timeout"`
	// NearbyCacheCustomers is how many customers, across tenants, the
	// nearby search may hold in memory (about 190 bytes each); the least
	// recently searched tenants are dropped beyond it. 0: every search
	// reads the database.
	NearbyCacheCustomers int `yaml:"nearby_cache_customers"`
}

// DefaultGeocoderUserAgent names routeloop to the geocoder.
const DefaultGeocoderUserAgent = "routeloop (referral program of a field-service company)"

// Defaults are the settings with nothing configured.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "data",
		DBMaxConns:      20,
		AutoMigrate:     true,
		LogLevel:        "info",
		LogFormat:       "text",
		ShutdownTimeout: 15 * time.Second,
		AuthCacheTTL:    10 * time.Second,
		Jobs:            true,
		ReconcileHour:   3,

		ExpensiveRequestsPerMinute: 60,
		Metrics:                    true,
		GeocoderUserAgent:          DefaultGeocoderUserAgent,
		GeocoderRate:               1,
		GeocoderTimeout:            5 * time.Second,
		NearbyCacheCustomers:       1_000_000,
	}
}

// DefaultFile is read when no file is named and it exists.
const DefaultFile = "configs/routeloop.yaml"

// Load builds the configuration from the file (DefaultFile when path is empty
// and that file exists) and the environment. Flags are applied by the caller
// with Set, then Validate.
func Load(path string, environ []string) (Config, error) {
	c := Defaults()
	explicit := path != ""
	if !explicit {
		path = DefaultFile
	}
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config file %s: %w", path, err)
		}
	case explicit || !os.IsNotExist(err):
		return c, fmt.Errorf("config file: %w", err)
	}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "ROUTELOOP_") {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(k, "ROUTELOOP_"))
		// ROUTELOOP_CONFIG names the file read above; ROUTELOOP_TEST_* are
		// the test suite's own (its database, its dialects), not settings.
		if key == "config" || strings.HasPrefix(key, "test_") {
			continue
		}
		if err := c.Set(key, v); err != nil {
			if errors.Is(err, errUnknown) {
				return c, fmt.Errorf("environment %s: not a routeloop setting", k)
			}
			return c, fmt.Errorf("environment %s: %w", k, err)
		}
	}
	return c, nil
}

var errUnknown = errors.New("unknown setting")

// Set assigns one setting by its file key from text.
func (c *Config) Set(key, value string) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("yaml") != key {
			continue
		}
		f := v.Field(i)
		switch f.Interface().(type) {
		case string:
			f.SetString(value)
		case bool:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return fmt.Errorf("%s must be true or false", key)
			}
			f.SetBool(b)
		case int:
			n, err := strconv.Atoi(value)
			if err != nil {
				return fmt.Errorf("%s must be a whole number", key)
			}
			f.SetInt(int64(n))
		case float64:
			n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
				return fmt.Errorf("%s must be a number such as 1 or 0.5", key)
			}
			f.SetFloat(n)
		case time.Duration:
			d, err := time.ParseDuration(value)
			if err != nil {
				return fmt.Errorf("%s must be a duration such as 15s", key)
			}
			f.SetInt(int64(d))
		case []string:
			var list []string
			for _, item := range strings.Split(value, ",") {
				if item = strings.TrimSpace(item); item != "" {
					list = append(list, item)
				}
			}
			f.Set(reflect.ValueOf(list))
		}
		return nil
	}
	return errUnknown
}

// Validate checks every setting and names the first bad one.
func (c *Config) Validate() error {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return fmt.Errorf("setting addr: %q is not host:port such as 127.0.0.1:8080", c.Addr)
	}
	if c.DatabaseURL == "" && strings.TrimSpace(c.DataDir) == "" {
		return errors.New("setting data_dir: must not be empty when database_url is not set")
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql" && u.Scheme != "sqlite") {
			return errors.New("setting database_url: must be a postgres:// URL (or sqlite://path)")
		}
	}
	if c.DBMaxConns < 1 || c.DBMaxConns > 1000 {
		return fmt.Errorf("setting db_max_conns: %d is not between 1 and 1000", c.DBMaxConns)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("setting base_url: %q is not an http(s) URL", c.BaseURL)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("setting log_level: %q is not debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("setting log_format: %q is not text or json", c.LogFormat)
	}
	if c.AuthCacheTTL < 0 || c.AuthCacheTTL > time.Hour {
		return errors.New("setting auth_cache_ttl: must be between 0s and 1h")
	}
	if c.ReconcileHour < 0 || c.ReconcileHour > 23 {
		return fmt.Errorf("setting reconcile_hour: %d is not an hour from 0 to 23", c.ReconcileHour)
	}
	if c.ExpensiveRequestsPerMinute < 0 || c.ExpensiveRequestsPerMinute > 1000000 {
		return fmt.Errorf("setting expensive_requests_per_minute: %d is not between 0 (no limit) and 1000000", c.ExpensiveRequestsPerMinute)
	}
	if c.NearbyCacheCustomers < 0 || c.NearbyCacheCustomers > 100_000_000 {
		return fmt.Errorf("setting nearby_cache_customers: %d is not between 0 (read the database every time) and 100000000", c.NearbyCacheCustomers)
	}
	if _, err := c.TrustedNets(); err != nil {
		return err
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("setting shutdown_timeout: must be positive")
	}
	return c.validateGeocoder()
}

// validateGeocoder checks the geocoder's settings (its address is not
// repeated: it may hold an API key).
func (c *Config) validateGeocoder() error {
	if c.GeocoderURL != "" {
		if err := geocode.CheckURL(c.GeocoderURL); err != nil {
			return fmt.Errorf("setting geocoder_url: %w", err)
		}
	}
	ua := strings.TrimSpace(c.GeocoderUserAgent)
	if ua == "" || len(ua) > 200 || strings.ContainsFunc(ua, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return errors.New("setting geocoder_user_agent: must be one line of up to 200 characters naming your service, such as \"routeloop for Greenway Lawn Care (ops@greenway.example)\"")
	}
	if math.IsNaN(c.GeocoderRate) || c.GeocoderRate < 0 || c.GeocoderRate > 1000 {
		return fmt.Errorf("setting geocoder_rate: %v is not between 0 (no limit) and 1000 lookups a second", c.GeocoderRate)
	}
	if c.GeocoderTimeout < time.Millisecond || c.GeocoderTimeout > 30*time.Second {
		return fmt.Errorf("setting geocoder_timeout: %v is not between 1ms and 30s (a friend's sign-up waits for it)", c.GeocoderTimeout)
	}
	return nil
}

// TrustedNets parses TrustedProxies; a single address is a range of one.
func (c *Config) TrustedNets() ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, p := range c.TrustedProxies {
		if !strings.Contains(p, "/") {
			ip := net.ParseIP(p)
			if ip == nil {
				return nil, fmt.Errorf("setting trusted_proxies: %q is not an address or a CIDR range such as 10.0.0.0/8", p)
			}
			bits := 128
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("setting trusted_proxies: %q is not an address or a CIDR range such as 10.0.0.0/8", p)
		}
		out = append(out, n)
	}
	return out, nil
}

// PublicURL is BaseURL, or the listen address as a URL.
func (c *Config) PublicURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	host, port, _ := net.SplitHostPort(c.Addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
