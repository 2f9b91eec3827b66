package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/webhook"
)

// reference is the Standard Webhooks signature computed by hand, apart from
// the package: base64(HMAC-SHA256(base64-decoded secret, "id.ts.body")).
func reference(t *testing.T, secret, id string, ts int64, body string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func TestSignatureMatchesTheStandardWebhooksReference(t *testing.T) {
	// The example published with the Standard Webhooks specification.
	const (
		specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		specBody   = `{"test": 2432232314}`
		specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	specTS := time.Unix(1614265330, 0)
	if got := reference(t, specSecret, specID, specTS.Unix(), specBody); got != specSig {
		t.Fatalf("the hand-made reference gives %s for the published example, want %s", got, specSig)
	}
	got, err := webhook.Sign(specSecret, specID, specTS, []byte(specBody))
	if err != nil || got != specSig {
		t.Fatalf("Sign(published example) = %s, %v; want %s", got, err, specSig)
	}
	if err := webhook.Verify([]string{specSecret}, specID, "1614265330", specSig, []byte(specBody), specTS.Add(time.Minute)); err != nil {
		t.Fatalf("the published example does not verify: %v", err)
	}

	// Fresh secrets and bodies, checked against the hand-made reference.
	for i, body := range []string{"", "{}", `{"type":"visit.upserted","data":{"price_cents":4500}}`, "ünïcode ✓ \x00 binary"} {
		secret := webhook.NewSecret()
		if err := webhook.CheckSecret(secret); err != nil {
			t.Fatalf("NewSecret made an unusable secret %s: %v", secret, err)
		}
		id := "msg_" + strconv.Itoa(i)
		ts := time.Unix(1_777_000_000+int64(i), 0)
		got, err := webhook.Sign(secret, id, ts, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if want := reference(t, secret, id, ts.Unix(), body); got != want {
			t.Errorf("body %q: Sign = %s, reference %s", body, got, want)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	secret, other := webhook.NewSecret(), webhook.NewSecret()
	now := time.Unix(1_777_000_000, 0)
	body := []byte(`{"type":"customer.upserted","data":{"external_id":"angie","name":"Angie"}}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := reference(t, secret, "msg_1", now.Unix(), string(body))
	at := func(d time.Duration) (string, string) {
		t := now.Add(d)
		sig, _ := webhook.Sign(secret, "msg_1", t, body)
		return strconv.FormatInt(t.Unix(), 10), sig
	}
	oldTS, oldSig := at(-5*time.Minute - time.Second)
	futureTS, futureSig := at(5*time.Minute + time.Second)
	edgeTS, edgeSig := at(-5 * time.Minute)
	cases := []struct {
		name        string
		secrets     []string
		id, ts, sig string
		body        []byte
		want        error // nil: accepted
	}{
		{"the right signature", []string{secret}, "msg_1", ts, good, body, nil},
		{"exactly 5 minutes old", []string{secret}, "msg_1", edgeTS, edgeSig, body, nil},
		{"a tampered body", []string{secret}, "msg_1", ts, good, []byte(strings.Replace(string(body), "Angie", "Angle", 1)), webhook.ErrNoMatch},
		{"another message id", []string{secret}, "msg_2", ts, good, body, webhook.ErrNoMatch},
		{"a wrong secret", []string{other}, "msg_1", ts, good, body, webhook.ErrNoMatch},
		{"no secrets at all", nil, "msg_1", ts, good, body, webhook.ErrNoMatch},
		{"an old timestamp", []string{secret}, "msg_1", oldTS, oldSig, body, webhook.ErrStale},
		{"a future timestamp", []string{secret}, "msg_1", futureTS, futureSig, body, webhook.ErrStale},
		{"a timestamp in milliseconds", []string{secret}, "msg_1", ts + "000", good, body, webhook.ErrStale},
		{"a timestamp that is no number", []string{secret}, "msg_1", "yesterday", good, body, webhook.ErrBadTimestamp},
		{"no signature", []string{secret}, "msg_1", ts, "", body, webhook.ErrMissingHeaders},
		{"no id", []string{secret}, "", ts, good, body, webhook.ErrMissingHeaders},
		{"a v2 signature only", []string{secret}, "msg_1", ts, "v2," + strings.TrimPrefix(good, "v1,"), body, webhook.ErrNoMatch},
		{"a signature that is not base64", []string{secret}, "msg_1", ts, "v1,***", body, webhook.ErrNoMatch},
		{"the signature of another timestamp", []string{secret}, "msg_1", edgeTS, good, body, webhook.ErrNoMatch},
	}
	for _, c := range cases {
		err := webhook.Verify(c.secrets, c.id, c.ts, c.sig, c.body, now)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestVerifyTakesAnyOfSeveralSignaturesAndSecrets(t *testing.T) {
	oldSecret, newSecret := webhook.NewSecret(), webhook.NewSecret()
	now := time.Unix(1_777_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"type":"visit.upserted"}`)
	withOld := reference(t, oldSecret, "msg_1", now.Unix(), string(body))
	withNew := reference(t, newSecret, "msg_1", now.Unix(), string(body))
	bogus := "v1," + base64.StdEncoding.EncodeToString(make([]byte, 32))

	// A sender rotating signs with both; the receiver may know either.
	for _, header := range []string{withOld + " " + withNew, bogus + " " + withNew, "v2,abc  " + withNew + " v1a,x"} {
		for _, secrets := range [][]string{{newSecret}, {oldSecret, newSecret}} {
			if err := webhook.Verify(secrets, "msg_1", ts, header, body, now); err != nil {
				t.Errorf("header %q with %d secrets: %v", header, len(secrets), err)
			}
		}
	}
	// While both are active, a sender still on the old secret gets in.
	if err := webhook.Verify([]string{newSecret, oldSecret}, "msg_1", ts, withOld, body, now); err != nil {
		t.Errorf("old secret during rotation: %v", err)
	}
	// Once the old one is revoked (no longer handed in), it does not.
	if err := webhook.Verify([]string{newSecret}, "msg_1", ts, withOld, body, now); !errors.Is(err, webhook.ErrNoMatch) {
		t.Errorf("revoked secret: %v", err)
	}
}
