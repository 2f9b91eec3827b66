package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestEnvironmentOverridesFileOverridesDefaults(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "routeloop.yaml")
	os.WriteFile(file, []byte("addr: 0.0.0.0:9000\nlog_level: debug\nshutdown_timeout: 3s\n"), 0o600)
	c, err := Load(file, []string{"ROUTELOOP_LOG_LEVEL=warn", "PATH=/bin", "ROUTELOOP_DB_MAX_CONNS=7"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" || c.LogLevel != "warn" || c.DBMaxConns != 7 || c.ShutdownTimeout != 3*time.Second {
		t.Fatalf("got %+v", c)
	}
	if c.DataDir != "data" || !c.AutoMigrate {
		t.Fatalf("defaults lost: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.PublicURL(); got != "http://localhost:9000" {
		t.Fatalf("public URL %s", got)
	}
}

func TestBadSettingsNameTheSetting(t *testing.T) {
	cases := map[string]func(*Config){
		"addr":                          func(c *Config) { c.Addr = "8080" },
		"database_url":                  func(c *Config) { c.DatabaseURL = "mysql://x" },
		"base_url":                      func(c *Config) { c.BaseURL = "ftp://x" },
		"log_level":                     func(c *Config) { c.LogLevel = "loud" },
		"log_format":                    func(c *Config) { c.LogFormat = "xml" },
		"db_max_conns":                  func(c *Config) { c.DBMaxConns = 0 },
		"reconcile_hour":                func(c *Config) { c.ReconcileHour = 24 },
		"auth_cache_ttl":                func(c *Config) { c.AuthCacheTTL = -time.Second },
		"trusted_proxies":               func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/33"} },
		"expensive_requests_per_minute": func(c *Config) { c.ExpensiveRequestsPerMinute = -1 },
		"geocoder_url":                  func(c *Config) { c.GeocoderURL = "ftp://nominatim.example.com" },
		"geocoder_user_agent":           func(c *Config) { c.GeocoderUserAgent = " " },
		"geocoder_rate":                 func(c *Config) { c.GeocoderRate = -1 },
		"geocoder_timeout":              func(c *Config) { c.GeocoderTimeout = 0 },
		"nearby_cache_customers":        func(c *Config) { c.NearbyCacheCustomers = -1 },
	}
	for name, mutate := range cases {
		c := Defaults()
		mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v does not name the setting", name, err)
		}
	}
}

func TestUnknownOrMistypedSettingsAreRefused(t *testing.T) {
	if _, err := Load("", []string{"ROUTELOOP_ADRESS=x"}); err == nil || !strings.Contains(err.Error(), "ROUTELOOP_ADRESS") {
		t.Fatalf("misspelt variable: %v", err)
	}
	if _, err := Load("", []string{"ROUTELOOP_AUTO_MIGRATE=perhaps"}); err == nil || !strings.Contains(err.Error(), "auto_migrate") {
		t.Fatalf("bad bool: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("adress: x\n"), 0o600)
	if _, err := Load(file, nil); err == nil {
		t.Fatal("unknown file key accepted")
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), nil); err == nil {
		t.Fatal("a named file that is missing was ignored")
	}
}

// fileKeys lists every setting's file key, in declaration order.
func fileKeys() []string {
	t := reflect.TypeOf(Config{})
	out := make([]string, t.NumField())
	for i := range out {
		out[i] = t.Field(i).Tag.Get("yaml")
	}
	return out
}

func TestEveryKeyCanBeSet(t *testing.T) {
	for _, k := range fileKeys() {
		c := Defaults()
		if err := c.Set(k, "1s"); err == errUnknown {
			t.Errorf("key %s not settable", k)
		}
	}
}

func TestTrustedProxiesComeFromAFileOrACommaSeparatedVariable(t *testing.T) {
	c, err := Load("", nil)
	if err != nil || len(c.TrustedProxies) != 0 {
		t.Fatalf("default: %v %v", c.TrustedProxies, err)
	}
	c, err = Load("", []string{"ROUTELOOP_TRUSTED_PROXIES= 10.0.0.0/8, 192.0.2.7 ,,2001:db8::/32"})
	if err != nil || c.Validate() != nil {
		t.Fatal(err, c.Validate())
	}
	nets, _ := c.TrustedNets()
	if len(nets) != 3 || nets[0].String() != "10.0.0.0/8" || nets[1].String() != "192.0.2.7/32" || nets[2].String() != "2001:db8::/32" {
		t.Fatalf("nets %v", nets)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("trusted_proxies: [172.16.0.0/12]\n"), 0o600)
	if c, err = Load(file, nil); err != nil || len(c.TrustedProxies) != 1 || c.TrustedProxies[0] != "172.16.0.0/12" {
		t.Fatalf("file: %v %v", c.TrustedProxies, err)
	}
	c.TrustedProxies = []string{"proxy.internal"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "trusted_proxies") {
		t.Fatalf("a host name: %v", err)
	}
}

func TestExpensiveLimitComesFromTheEnvironment(t *testing.T) {
	c, err := Load("", nil)
	if err != nil || c.ExpensiveRequestsPerMinute != 60 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = Load("", []string{"ROUTELOOP_EXPENSIVE_REQUESTS_PER_MINUTE=5"})
	if err != nil || c.Validate() != nil || c.ExpensiveRequestsPerMinute != 5 {
		t.Fatalf("environment: %+v %v", c, err)
	}
}

func TestMetricsComeFromTheEnvironment(t *testing.T) {
	c, err := Load("", nil)
	if err != nil || !c.Metrics || c.MetricsToken != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = Load("", []string{"ROUTELOOP_METRICS=false", "ROUTELOOP_METRICS_TOKEN=s3cret"})
	if err != nil || c.Validate() != nil || c.Metrics || c.MetricsToken != "s3cret" {
		t.Fatalf("environment: %+v %v", c, err)
	}
}

func TestTheGeocoderComesFromTheEnvironment(t *testing.T) {
	c, err := Load("", nil)
	if err != nil || c.Validate() != nil || c.GeocoderURL != "" || c.GeocoderRate != 1 || c.GeocoderTimeout != 5*time.Second ||
		!strings.Contains(c.GeocoderUserAgent, "routeloop") {
		t.Fatalf("defaults: no geocoder, 1 a second, 5s, a User-Agent naming routeloop: %+v %v", c, err)
	}
	c, err = Load("", []string{"ROUTELOOP_GEOCODER_URL=https://geo.internal/nominatim?key=k", "ROUTELOOP_GEOCODER_RATE=0.5",
		"ROUTELOOP_GEOCODER_TIMEOUT=2s", "ROUTELOOP_GEOCODER_USER_AGENT=routeloop for Greenway (ops@greenway.example)"})
	if err != nil || c.Validate() != nil || c.GeocoderURL != "https://geo.internal/nominatim?key=k" || c.GeocoderRate != 0.5 ||
		c.GeocoderTimeout != 2*time.Second || c.GeocoderUserAgent != "routeloop for Greenway (ops@greenway.example)" {
		t.Fatalf("environment: %+v %v %v", c, err, c.Validate())
	}
	for _, v := range []string{"fast", "NaN", "Inf"} {
		if _, err := Load("", []string{"ROUTELOOP_GEOCODER_RATE=" + v}); err == nil || !strings.Contains(err.Error(), "geocoder_rate") {
			t.Errorf("rate %q: %v", v, err)
		}
	}
	// A refused address is not repeated: it may hold the service's key.
	c.GeocoderURL = "nominatim.example.com/?key=s3cret"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "geocoder_url") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("no scheme: %v", err)
	}
	c.GeocoderURL, c.GeocoderUserAgent = "", "routeloop\r\nX-Evil: 1"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "geocoder_user_agent") {
		t.Fatalf("a User-Agent of two lines: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("geocoder_url: http://127.0.0.1:8088\ngeocoder_rate: 25\ngeocoder_timeout: 800ms\n"), 0o600)
	if c, err = Load(file, nil); err != nil || c.Validate() != nil || c.GeocoderURL != "http://127.0.0.1:8088" || c.GeocoderRate != 25 || c.GeocoderTimeout != 800*time.Millisecond {
		t.Fatalf("file: %+v %v", c, err)
	}
}

// The committed settings file lists every setting with its default.
func TestTheCommittedFileIsTheDefaults(t *testing.T) {
	path := filepath.Join("..", "..", DefaultFile)
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) == 0 {
		c.TrustedProxies = nil // [] in the file
	}
	raw, _ := os.ReadFile(path)
	var keys map[string]any
	if err := yaml.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range fileKeys() {
		if _, ok := keys[k]; !ok {
			t.Errorf("%s is not in %s", k, DefaultFile)
		}
	}
	if !reflect.DeepEqual(c, Defaults()) {
		t.Fatalf("configs/routeloop.yaml differs from the defaults:\n file %+v\n code %+v", c, Defaults())
	}
}

// The test suite's own variables (ROUTELOOP_TEST_DATABASE_URL, ...) are not
// settings: a server started from a shell that has them set starts, while a
// misspelt setting still stops it.
func TestTheTestSuitesVariablesAreNotSettings(t *testing.T) {
	c, err := Load("", []string{"ROUTELOOP_TEST_DATABASE_URL=postgres://x@127.0.0.1/test", "ROUTELOOP_TEST_DIALECTS=postgres",
		"ROUTELOOP_LOG_LEVEL=warn"})
	if err != nil {
		t.Fatalf("ROUTELOOP_TEST_* refused: %v", err)
	}
	if c.LogLevel != "warn" || c.DatabaseURL != "" {
		t.Errorf("settings read: log level %q, database url %q", c.LogLevel, c.DatabaseURL)
	}
	if _, err := Load("", []string{"ROUTELOOP_TESTING=1"}); err == nil || !strings.Contains(err.Error(), "ROUTELOOP_TESTING") {
		t.Errorf("ROUTELOOP_TESTING is no test variable and no setting, yet: %v", err)
	}
}

// Keys lists every setting's file key, in declaration order.
func Keys() []string {
	t := reflect.TypeOf(Config{})
	out := make([]string, t.NumField())
	for i := range out {
		out[i] = t.Field(i).Tag.Get("yaml")
	}
	return out
}
