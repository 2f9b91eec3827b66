package webhook

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
)

func TestDecodeEvent(t *testing.T) {
	ev, err := decodeEvent([]byte(`{"type":"visit.upserted","timestamp":"2026-05-01T10:00:00Z",
		"data":{"external_id":"v1","customer_id":"angie","service_date":"2026-05-05","price_cents":4500}}`))
	if err != nil {
		t.Fatal(err)
	}
	in, ok := ev.Object.input.(*mirror.VisitInput)
	if !ok || ev.Object.ExternalID != "v1" || in.CustomerID != "angie" || in.PriceCents != 4500 {
		t.Fatalf("decoded %+v %+v", ev, ev.Object.input)
	}
	if in.UpdatedAt == nil || !in.UpdatedAt.Equal(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("the event's timestamp did not become updated_at: %v", in.UpdatedAt)
	}
	ev, err = decodeEvent([]byte(`{"type":"invoice.upserted","timestamp":"2026-05-01T10:00:00Z",
		"data":{"external_id":"i1","customer_id":"angie","updated_at":"2026-04-30T09:00:00Z","lines":[]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if inv := ev.Object.input.(*invoice.Input); !inv.UpdatedAt.Equal(time.Date(2026, 4, 30, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("data's own updated_at was replaced: %v", inv.UpdatedAt)
	}

	cases := []struct {
		body, code, field, says string
	}{
		{`{"type":"crew.deleted","data":{}}`, apperror.CodeBadRequest, "", "not supported yet"},
		{`{"type":"customer","data":{}}`, apperror.CodeBadRequest, "", `unknown event type "customer"`},
		{`{"type":"referral.created","data":{}}`, apperror.CodeBadRequest, "", `"referral.created"`},
		{`{"type":"visit.upserted","timestamp":"May 1","data":{}}`, apperror.CodeValidation, "timestamp", ""},
		{`{"type":"visit.upserted","data":null}`, apperror.CodeValidation, "data", ""},
		{`{"type":"visit.upserted","data":[]}`, apperror.CodeValidation, "data", ""},
		{`{"type":"visit.upserted","data":{"price_cents":1.5}}`, apperror.CodeValidation, "data.price_cents", ""},
		{`{"type":"crew.upserted","data":{"members":[{"name":1}]}}`, apperror.CodeValidation, "data.members[0].name", ""},
		{`{"type":"invoice.upserted","data":{"lines":[{"visit_id":"v1"},{"visit":"v1"}]}}`, apperror.CodeValidation, "data.lines[1].visit", ""},
		{`{"type":"crew.upserted","data":{"external_id":"north","members":[{"external_id":"sam","zz":1}]}}`, apperror.CodeValidation, "data.members[0].zz", ""},
		{`{"type":"visit.upserted","data":{}} {}`, apperror.CodeBadRequest, "", "exactly one"},
		{`[]`, apperror.CodeBadRequest, "", "object"},
		{``, apperror.CodeBadRequest, "", "empty"},
		{`{"type":"visit.upserted","data":{"updated_at":"yesterday"}}`, apperror.CodeValidation, "data.updated_at", ""},
	}
	for _, c := range cases {
		_, err := decodeEvent([]byte(c.body))
		ae, ok := apperror.As(err)
		if !ok || ae.Code != c.code || (c.field != "" && ae.Fields[c.field] == "") || !strings.Contains(ae.Message, c.says) {
			t.Errorf("%s: %v, want %s %s %q", c.body, err, c.code, c.field, c.says)
		}
	}
}

// FuzzDecodeEvent: whatever the body, the decoder answers a decoded event or
// a 4xx error, and never panics.
func FuzzDecodeEvent(f *testing.F) {
	for _, seed := range []string{
		`{"type":"visit.upserted","timestamp":"2026-05-01T10:00:00Z","data":{"external_id":"v1","customer_id":"angie","service_date":"2026-05-05","price_cents":4500}}`,
		`{"type":"customer.upserted","data":{"external_id":"a","name":"A","lat":45.1,"lon":-122.6,"consent_same_day":true}}`,
		`{"type":"crew.upserted","data":{"external_id":"c","name":"C","depot_lat":1,"depot_lon":2,"members":[{"external_id":"m","name":"M"}]}}`,
		`{"type":"invoice.upserted","data":{"external_id":"i","customer_id":"a","lines":[{"visit_id":"v","description":"x","amount_cents":1}]}}`,
		`{"type":"visit.deleted","data":{}}`, `{"type":`, `null`, `{"data":{"members":[[[[]]]]}}`, "\xff\xfe",
		// NUL bytes (escaped and raw) and invalid UTF-8 inside strings.
		`{"type":"customer.upserted","data":{"external_id":"a","name":"A\u0000B"}}`,
		"{\"type\":\"customer.upserted\",\"data\":{\"external_id\":\"a\",\"name\":\"A\x00B\"}}",
		"{\"type\":\"customer.upserted\",\"data\":{\"external_id\":\"a\",\"name\":\"A\xff\xfeB\"}}",
		"{\"type\":\"visit.upserted\xc3\x28\",\"data\":{}}", "\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := decodeEvent(body)
		if err == nil {
			if ev.Object.input == nil || ev.Type == "" {
				t.Fatalf("no error and no object for %q", body)
			}
			return
		}
		ae, ok := apperror.As(err)
		if !ok {
			t.Fatalf("%q: a plain error (a 500): %v", body, err)
		}
		switch ae.Code {
		case apperror.CodeBadRequest, apperror.CodeValidation:
		default:
			t.Fatalf("%q: code %s", body, ae.Code)
		}
	})
}

// FuzzSignatureHeader: any headers and body give one of Verify's own
// errors (each a 401) or a match, and never panic.
func FuzzSignatureHeader(f *testing.F) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Unix(1614265330, 0)
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("m", "1614265330", "v1,abc v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v2,x", []byte(``))
	f.Add("m", "-9223372036854775808", "v1,", []byte(`{}`))
	f.Add("m", "9223372036854775807", ",,, v1 ,v1,,", []byte(`{}`))
	f.Add("m\x00", "1614265330\x00", "v1,\x00\xff", []byte("{\"a\":\"\x00\xff\"}"))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		err := Verify([]string{secret, "whsec_", "not a secret"}, id, ts, sig, body, now)
		switch err {
		case nil:
			// Only a real signature of this very message may match.
			n, perr := strconv.ParseInt(ts, 10, 64)
			want, _ := Sign(secret, id, time.Unix(n, 0), body)
			wantMAC, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(want, "v1,"))
			found := false
			for _, part := range strings.Fields(sig) {
				v, value, _ := strings.Cut(part, ",")
				got, derr := base64.StdEncoding.DecodeString(value)
				found = found || (v == "v1" && derr == nil && bytes.Equal(got, wantMAC))
			}
			if perr != nil || !found {
				t.Fatalf("accepted %q %q %q for %q", id, ts, sig, body)
			}
		case ErrMissingHeaders, ErrBadTimestamp, ErrStale, ErrNoMatch:
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
