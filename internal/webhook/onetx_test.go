package webhook_test

import (
	"errors"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/webhook"
)

// The claim, the change and the recorded result of a delivery commit in one
// transaction: a delivery whose result cannot be recorded (here a trigger
// refuses it; in life the process dies) leaves neither its change nor its
// claim, and the sender's retry applies it.
func TestADeliveryWhoseResultIsNotRecordedLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		f.seed()
		refuse := map[string][]string{
			store.SQLite: {`CREATE TRIGGER refuse_result BEFORE UPDATE ON webhook_inbox WHEN NEW.status = 200
				BEGIN SELECT RAISE(ABORT, 'recording refused'); END`},
			store.Postgres: {`CREATE FUNCTION refuse_result() RETURNS trigger LANGUAGE plpgsql AS
				$$ BEGIN RAISE EXCEPTION 'recording refused'; END $$`,
				`CREATE TRIGGER refuse_result BEFORE UPDATE ON webhook_inbox FOR EACH ROW WHEN (NEW.status = 200)
				EXECUTE FUNCTION refuse_result()`},
		}
		for _, q := range refuse[s.Dialect] {
			if err := s.DB.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		body := event("visit.upserted", visitData("v1", 4500, "status", "completed"))
		if _, err := f.deliver("msg-1", body); err == nil {
			t.Fatal("a delivery whose result was not recorded was answered as applied")
		}
		if n := f.count("visits"); n != 0 {
			t.Fatalf("%d visits left by the delivery that did not finish", n)
		}
		if n := storetest.Count(t, s.DB.Where("webhook_id = ?", "msg-1"), "webhook_inbox"); n != 0 {
			t.Fatalf("%d inbox rows left by the delivery that did not finish", n)
		}
		if err := s.DB.Exec(`DROP TRIGGER refuse_result` + map[string]string{store.Postgres: " ON webhook_inbox"}[s.Dialect]).Error; err != nil {
			t.Fatal(err)
		}
		if got := f.mustDeliver("msg-1", body); got != "created" {
			t.Fatalf("the retry: %s", got)
		}
		res, err := f.deliver("msg-1", body)
		if err != nil || !res.Replay {
			t.Fatalf("a second retry: %+v, %v; want the first result again", res, err)
		}
	})
}

// On PostgreSQL a delivery whose webhook-id another transaction holds
// uncommitted waits at the claim for ReplayWait, then answers 409 and writes
// nothing; once the holder rolls back, a redelivery applies.
func TestADeliveryHeldUncommittedElsewhereIsAConflict(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	f := newFixture(t, s)
	f.seed()
	holder := s.DB.Begin()
	if err := holder.Exec(`INSERT INTO webhook_inbox (tenant_id, webhook_id, event_type, status, result, received_at) VALUES (?, 'msg-1', 'visit.upserted', 0, '', ?)`,
		f.greenway, f.clock.Now()).Error; err != nil {
		t.Fatal(err)
	}
	f.app.Webhooks.ReplayWait = 200 * time.Millisecond
	began := time.Now()
	_, err := f.deliver("msg-1", event("visit.upserted", visitData("v1", 4500)))
	var busy *webhook.InProgress
	if !errors.As(err, &busy) || code(err) != apperror.CodeConflict {
		t.Fatalf("while held: %v", err)
	}
	if waited := time.Since(began); waited < 200*time.Millisecond {
		t.Fatalf("answered after %v, before ReplayWait", waited)
	}
	if err := holder.Rollback().Error; err != nil {
		t.Fatal(err)
	}
	if n := f.count("visits"); n != 0 {
		t.Fatalf("%d visits written while the id was held", n)
	}
	if got := f.mustDeliver("msg-1", event("visit.upserted", visitData("v1", 4500))); got != "created" {
		t.Fatalf("after the holder let go: %s", got)
	}
}
