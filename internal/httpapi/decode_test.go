package httpapi_test

import (
	"encoding/json"
	"testing"
)

// Readers of decoded answers, so stories check a member of the JSON
// rather than a piece of its text.

// message returns error.message of an error answer.
func (r response) message() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// decoded is r with Body decoded from Raw, for answers read without do
// (send keeps only the raw body).
func (r response) decoded(t *testing.T) response {
	t.Helper()
	r.Body = nil
	if err := json.Unmarshal(r.Raw, &r.Body); err != nil {
		t.Fatalf("answer is not JSON (%d): %s", r.Status, r.Raw)
	}
	return r
}

// flagReason returns the reason of a referral's flag with the given code,
// "" when the referral has no such flag (every flag says why).
func flagReason(referral map[string]any, code string) string {
	f := itemWith(list(referral, "flags"), "code", code)
	s, _ := f["reason"].(string)
	return s
}

// itemWith returns the first object of items whose member key equals
// value, nil when there is none.
func itemWith(items []any, key string, value any) map[string]any {
	for _, it := range items {
		if m, ok := it.(map[string]any); ok && m[key] == value {
			return m
		}
	}
	return nil
}

// resultField returns error.fields[name] of one result of a batch answer.
func resultField(result map[string]any, name string) string {
	f, _ := object(result, "error")["fields"].(map[string]any)
	s, _ := f[name].(string)
	return s
}
