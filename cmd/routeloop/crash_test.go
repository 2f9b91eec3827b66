package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// TestMain lets the test binary stand in for the routeloop binary: with
// RL_TEST_AS_BINARY=1 it is routeloop, so a test can run a real server
// process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("RL_TEST_AS_BINARY") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// server is a routeloop serve process of the test's own.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

func startServer(t *testing.T, db []string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0"}, db...)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROUTELOOP_") { // the test's own settings are not the server's
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "RL_TEST_AS_BINARY=1", "ROUTELOOP_JOBS=false", "ROUTELOOP_LOG_LEVEL=warn")
	logs := &bytes.Buffer{}
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("server did not start: %v %s", err, logs)
	}
	go io.Copy(io.Discard, out)
	s := &server{cmd: cmd, url: strings.TrimSpace(strings.TrimPrefix(line, "routeloop listening on ")), logs: logs}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return s
}

// kill stops the server as kill -9 does: no shutdown, transactions cut.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
}

type client struct {
	t   *testing.T
	url string
	key string
	hc  *http.Client
}

// do sends a request; status 0 means it never got an answer.
func (c *client) do(method, path string, body any) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (c *client) must(method, path string, body any) map[string]any {
	c.t.Helper()
	st, out := c.do(method, path, body)
	if st != 200 && st != 201 {
		c.t.Fatalf("%s %s: %d %v", method, path, st, out)
	}
	return out
}

// A kill -9 in the middle of a stream of money writes loses nothing and
// half-saves nothing: after a restart every ledger item adds up (given +
// pending = owed, or an error recorded), every total is its lines, every
// invoice that answered "issued" still shows what it answered, and a
// reconciliation of the days changes nothing.
func TestKillNineInTheMiddleOfMoneyWrites(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			var db []string
			if dialect == store.SQLite {
				db = []string{"--data-dir", t.TempDir()}
			} else {
				db = []string{"--database-url", storetest.FreshPostgresURL(t)}
			}
			out, err := runCmd(t, append([]string{"tenant", "create", "--name", "Greenway", "--timezone", "America/Los_Angeles", "--currency", "USD", "--json"}, db...)...)
			if err != nil {
				t.Fatal(err, out)
			}
			var ten struct {
				APIKey string `json:"api_key"`
			}
			if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &ten); err != nil {
				t.Fatal(err, out)
			}
			srv := startServer(t, db)
			c := &client{t: t, url: srv.url, key: ten.APIKey, hc: &http.Client{Timeout: 10 * time.Second}}
			c.must("PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
			const pairs = 8
			days := []string{"2026-12-07", "2026-12-08", "2026-12-09"}
			for i := 0; i < pairs; i++ {
				for j, who := range []string{"a", "b"} {
					c.must("PUT", fmt.Sprintf("/api/v1/customers/%s%d", who, i), map[string]any{"name": who, "address": fmt.Sprintf("%d Elm St", 10*i+j),
						"lat": 45.40 + float64(i)*0.01, "lon": -122.60 + float64(j)*0.001, "consent_same_day": true})
				}
				c.must("POST", "/api/v1/neighbor-links", map[string]any{"customer_a": fmt.Sprintf("a%d", i), "customer_b": fmt.Sprintf("b%d", i)})
			}
			// Writers: visits of both neighbours moved between days, drafts
			// billing them, issued, voided and billed again.
			var (
				mu     sync.Mutex
				issued = map[string]string{} // invoice → its lines as answered when issued
				stop   = make(chan struct{})
				wg     sync.WaitGroup
			)
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 7))
					for n := 0; ; n++ {
						select {
						case <-stop:
							return
						default:
						}
						i := rng.IntN(pairs)
						who := []string{"a", "b"}[rng.IntN(2)]
						cust := fmt.Sprintf("%s%d", who, i)
						visit := fmt.Sprintf("v-%s-%d", cust, rng.IntN(3))
						switch rng.IntN(4) {
						case 0, 1:
							c.do("PUT", "/api/v1/visits/"+visit, map[string]any{"customer_id": cust, "crew_id": "north",
								"service_date": days[rng.IntN(len(days))], "status": []string{"scheduled", "scheduled", "cancelled"}[rng.IntN(3)], "price_cents": 4500})
						case 2:
							inv := fmt.Sprintf("i-%s-g%d-%d", visit, g, n)
							lines := []any{map[string]any{"visit_id": visit, "description": "Mow", "amount_cents": 4500}}
							if st, _ := c.do("PUT", "/api/v1/invoices/"+inv, map[string]any{"customer_id": cust, "lines": lines}); st != 201 {
								continue
							}
							st, body := c.do("PUT", "/api/v1/invoices/"+inv, map[string]any{"customer_id": cust, "status": "issued", "lines": lines})
							if st == 200 {
								b, _ := json.Marshal(body["lines"])
								mu.Lock()
								issued[inv] = string(b)
								mu.Unlock()
							}
						case 3:
							mu.Lock()
							var some string
							for inv := range issued {
								some = inv
								break
							}
							mu.Unlock()
							if some != "" && rng.IntN(3) == 0 {
								parts := strings.Split(some, "-")
								if st, _ := c.do("PUT", "/api/v1/invoices/"+some, map[string]any{"customer_id": parts[2],
									"status": "void", "lines": []any{map[string]any{"visit_id": strings.Join(parts[1:4], "-"), "description": "Mow", "amount_cents": 4500}}}); st == 200 {
									mu.Lock()
									delete(issued, some)
									mu.Unlock()
								}
							}
						}
					}
				}(g)
			}
			time.Sleep(1500 * time.Millisecond)
			srv.kill(t) // in the middle of it
			close(stop)
			wg.Wait()

			srv = startServer(t, db)
			c.url = srv.url
			ledgers := func() string {
				var b strings.Builder
				for i := 0; i < pairs; i++ {
					for _, who := range []string{"a", "b"} {
						l := c.must("GET", fmt.Sprintf("/api/v1/customers/%s%d/ledger", who, i), nil)
						for _, it := range l["items"].([]any) {
							m := it.(map[string]any)
							owed, given, pending, inErr := m["owed_cents"].(float64), m["given_cents"].(float64), m["pending_cents"].(float64), m["given_in_error_cents"].(float64)
							if given+pending != owed && !(inErr > 0 && pending == 0 && given-inErr == owed) {
								t.Errorf("%s%d: item does not add up: %v", who, i, m)
							}
						}
						invs := c.must("GET", fmt.Sprintf("/api/v1/invoices?customer_id=%s%d&limit=500", who, i), nil)
						for _, iv := range invs["invoices"].([]any) {
							inv := iv.(map[string]any)
							var sum float64
							for _, l := range inv["lines"].([]any) {
								sum += l.(map[string]any)["amount_cents"].(float64)
							}
							if sum != inv["total_cents"].(float64) || sum < 0 {
								t.Errorf("%s: lines add up to %v, total %v", inv["external_id"], sum, inv["total_cents"])
							}
							if want, ok := issued[inv["external_id"].(string)]; ok {
								got, _ := json.Marshal(inv["lines"])
								if string(got) != want {
									t.Errorf("issued invoice %s changed:\n was %s\n now %s", inv["external_id"], want, got)
								}
							}
						}
						b.WriteString(fmt.Sprint(l) + fmt.Sprint(invs))
					}
				}
				return b.String()
			}
			before := ledgers()
			c.must("POST", "/api/v1/reconcile", map[string]any{"from": days[0], "to": days[len(days)-1]})
			if after := ledgers(); after != before {
				t.Error("reconciling after the restart changed money: something was left half-done")
			}
			t.Logf("%d invoices issued before the kill", len(issued))
		})
	}
}
