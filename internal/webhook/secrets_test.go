package webhook_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/webhook"
)

func TestSecretsAreShownOnceCappedAndKeptPerTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		svc := f.app.Webhooks
		k, plain, err := svc.CreateSecret(ctx, f.greenway)
		if err != nil {
			t.Fatal(err)
		}
		if webhook.CheckSecret(plain) != nil || !strings.HasPrefix(plain, k.Prefix) || len(k.Prefix) != len("whsec_")+4 {
			t.Fatalf("secret %q, prefix %q", plain, k.Prefix)
		}
		list, next, err := svc.Secrets(ctx, f.greenway, store.Page{Limit: 10})
		if err != nil || len(list) != 2 || next != "" {
			t.Fatalf("list: %d %q %v", len(list), next, err)
		}
		raw, _ := json.Marshal(list)
		if strings.Contains(string(raw), plain) || strings.Contains(string(raw), f.secret) || !strings.Contains(string(raw), `"prefix"`) {
			t.Fatalf("the list shows a secret: %s", raw)
		}

		// Up to five may be active at once; revoked ones don't count.
		for range webhook.MaxActiveSecrets - 2 {
			if _, _, err := svc.CreateSecret(ctx, f.greenway); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := svc.CreateSecret(ctx, f.greenway); code(err) != "conflict" {
			t.Fatalf("a sixth active secret: %v", err)
		}
		revoked, err := svc.RevokeSecret(ctx, f.greenway, k.ID)
		if err != nil || revoked.RevokedAt == nil || revoked.ID != k.ID {
			t.Fatalf("revoke: %+v %v", revoked, err)
		}
		if again, err := svc.RevokeSecret(ctx, f.greenway, k.ID); err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
			t.Fatalf("revoking twice: %+v %v", again, err)
		}
		if _, _, err := svc.CreateSecret(ctx, f.greenway); err != nil {
			t.Fatalf("after revoking one: %v", err)
		}

		// Another tenant neither sees nor revokes Greenway's secrets.
		rival := apptest.Tenant(t, f.app.Tenants, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
		if theirs, _, _ := svc.Secrets(ctx, rival.ID, store.Page{Limit: 10}); len(theirs) != 0 {
			t.Fatalf("Rival lists %d secrets", len(theirs))
		}
		if _, err := svc.RevokeSecret(ctx, rival.ID, list[0].ID); code(err) != "not_found" {
			t.Fatalf("Rival revoking Greenway's secret: %v", err)
		}
		if mine, _, _ := svc.Secrets(ctx, f.greenway, store.Page{Limit: 10}); mine[0].RevokedAt != nil {
			t.Fatal("Rival revoked Greenway's first secret")
		}
		for _, id := range []string{uuid.NewString(), "nope"} {
			if _, _, err := svc.CreateSecret(ctx, id); code(err) != "not_found" {
				t.Fatalf("a secret for tenant %s: %v", id, err)
			}
		}
	})
}
