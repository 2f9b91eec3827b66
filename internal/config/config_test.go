package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

func TestEveryKeyCanBeSet(t *testing.T) {
	for _, k := range Keys() {
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
