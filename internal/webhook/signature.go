// Package webhook speaks the Standard Webhooks scheme in both directions:
// headers webhook-id, webhook-timestamp and webhook-signature ("v1," +
// base64 HMAC-SHA256 over "id.timestamp.body"), secrets "whsec_" + base64.
// Integrators can use that specification's libraries against routeloop.
//
// Webhooks in live here: the scheduler's signed deliveries to
// /hooks/v1/{tenant} (Receive, deduplicated by webhook-id), the sync batch,
// the CSV import and the tenants' signing secrets; each writes through
// package mirror. Webhooks out are package outbox, which records routeloop's
// events with the change that causes them and delivers them signed with
// Sign from here: one scheme, two directions, a package each.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

const secretPrefix = "whsec_"

// Tolerance is how far a delivery's timestamp may be from now.
const Tolerance = 5 * time.Minute

// NewSecret returns a fresh signing secret ("whsec_" + 24 random bytes).
func NewSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a "whsec_..." secret to its key bytes.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook: malformed secret")
	}
	return key, nil
}

// Sign returns the webhook-signature value for a message.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, msgID, ts.Unix(), body)), nil
}

func mac(key []byte, msgID string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(ts, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verification failures; each is a 401 to the sender.
var (
	ErrMissingHeaders = errors.New("webhook-id, webhook-timestamp and webhook-signature headers are required")
	ErrBadTimestamp   = errors.New("webhook-timestamp is not a unix time in seconds")
	ErrStale          = errors.New("webhook-timestamp is more than 5 minutes from now")
	ErrNoMatch        = errors.New("no webhook-signature matches any active secret")
)

// Verify checks a delivery against the active secrets: the timestamp must
// be within Tolerance of now and one of the space-separated "v1," signatures
// must match one of the secrets (several are active while rotating).
func Verify(secrets []string, msgID, timestamp, signature string, body []byte, now time.Time) error {
	if msgID == "" || timestamp == "" || signature == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return ErrStale
	}
	var sigs [][]byte
	for _, part := range strings.Fields(signature) {
		version, value, ok := strings.Cut(part, ",")
		if !ok || version != "v1" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(value); err == nil {
			sigs = append(sigs, b)
		}
	}
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			continue
		}
		want := mac(key, msgID, ts, body)
		for _, got := range sigs {
			if hmac.Equal(want, got) {
				return nil
			}
		}
	}
	return ErrNoMatch
}
