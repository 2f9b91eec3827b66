package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
)

// Kinds of mirrored object a webhook, a batch or a CSV file may carry.
const (
	KindCustomer = "customer"
	KindCrew     = "crew"
	KindVisit    = "visit"
	KindInvoice  = "invoice"
)

// Kinds lists them in the order an import should load them: a visit names
// its customer and crew, an invoice its customer and visits.
var Kinds = []string{KindCustomer, KindCrew, KindVisit, KindInvoice}

// EventTypes are the inbound event types routeloop applies.
var EventTypes = []string{"customer.upserted", "crew.upserted", "visit.upserted", "invoice.upserted"}

// object is one mirrored object to write: its kind, the scheduler's id and
// the Put input (*mirror.CustomerInput, *mirror.CrewInput,
// *mirror.VisitInput or *invoice.Input).
type object struct {
	Kind       string
	ExternalID string
	input      any
}

// event is a decoded Standard Webhooks payload.
type event struct {
	Type   string
	Object object
}

// envelope is the Standard Webhooks payload shape.
type envelope struct {
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// decodeEvent reads a webhook body: {"type", "timestamp", "data"}, where data
// is the body of the matching PUT plus "external_id". Every failure is a 4xx
// apperror naming what is wrong; nothing here touches the database.
func decodeEvent(body []byte) (event, error) {
	var env envelope
	if err := apperror.DecodeJSON(body, &env, ""); err != nil {
		return event{}, err
	}
	kind, verb, _ := strings.Cut(env.Type, ".")
	known := false
	for _, k := range Kinds {
		known = known || k == kind
	}
	switch {
	case env.Type == "":
		return event{}, apperror.BadRequest("the event has no type; routeloop accepts %s", strings.Join(EventTypes, ", "))
	case known && verb == "deleted":
		return event{}, apperror.BadRequest("event type %q: deletes are not supported yet; routeloop accepts %s",
			env.Type, strings.Join(EventTypes, ", "))
	case !known || verb != "upserted":
		return event{}, apperror.BadRequest("unknown event type %q; routeloop accepts %s", env.Type, strings.Join(EventTypes, ", "))
	}
	var changed *time.Time
	if env.Timestamp != "" {
		t, err := time.Parse(time.RFC3339, env.Timestamp)
		if err != nil {
			return event{}, apperror.Invalid("timestamp", "must be an RFC 3339 time such as 2026-05-03T08:30:00Z")
		}
		changed = &t
	}
	if isNull(env.Data) {
		return event{}, apperror.Invalid("data", "is required: the object, as in the matching PUT, plus external_id")
	}
	o, err := decodeObject(kind, env.Data, true, "data.")
	if err != nil {
		return event{}, err
	}
	// An event without its own updated_at is ordered by when it happened,
	// so a late delivery of an older event does not overwrite a newer one.
	if changed != nil {
		setUpdatedAt(o.input, *changed)
	}
	return event{Type: env.Type, Object: o}, nil
}

// decodeObject reads one object's data strictly, as the API reads a PUT's
// body (unknown fields refused, full field paths in errors).
// withID says whether data carries "external_id" (webhooks) or not (a
// batch names it beside data). Field names in errors start with prefix.
func decodeObject(kind string, raw []byte, withID bool, prefix string) (object, error) {
	var (
		target, input any
		id            *string
		bare          any // what a batch decodes, when not the input itself
		decoded       = func() {}
	)
	switch kind {
	case KindCustomer:
		// CustomerJSON tells a consent_same_day left out from one sent false.
		v := &struct {
			ExternalID string `json:"external_id"`
			mirror.CustomerJSON
		}{}
		target, input, id, bare = v, &v.CustomerInput, &v.ExternalID, &v.CustomerJSON
		decoded = func() { v.CustomerInput = v.CustomerJSON.Input() }
	case KindCrew:
		v := &struct {
			ExternalID string `json:"external_id"`
			mirror.CrewInput
		}{}
		target, input, id = v, &v.CrewInput, &v.ExternalID
	case KindVisit:
		v := &struct {
			ExternalID string `json:"external_id"`
			mirror.VisitInput
		}{}
		target, input, id = v, &v.VisitInput, &v.ExternalID
	case KindInvoice:
		v := &struct {
			ExternalID string `json:"external_id"`
			invoice.Input
		}{}
		target, input, id = v, &v.Input, &v.ExternalID
	default:
		return object{}, apperror.BadRequest("unknown object type %q; use one of %s", kind, strings.Join(Kinds, ", "))
	}
	if !withID {
		target = input
		if bare != nil {
			target = bare
		}
	}
	if err := apperror.DecodeJSON(raw, target, prefix); err != nil {
		return object{}, err
	}
	decoded()
	return object{Kind: kind, ExternalID: *id, input: input}, nil
}

// checkObject applies the rules of an object's own fields (text, dates,
// ids; a customer's phone for the company's country), with field names
// under "data.". The receiver runs them before it looks for an earlier
// delivery of the same webhook-id; the write runs them again with the rest
// (references to other objects, invoice states).
func (s *Service) checkObject(ctx context.Context, t Tenant, o object) error {
	if err := mirror.CheckExternalID(o.ExternalID); err != nil {
		return apperror.Invalid("data.external_id", err.Error())
	}
	var err error
	switch in := o.input.(type) {
	case *mirror.CustomerInput:
		err = s.mirror.CheckCustomer(ctx, t.ID, *in)
	case *mirror.CrewInput:
		c := *in
		err = c.Validate()
	case *mirror.VisitInput:
		err = in.Validate(t.Location)
	case *invoice.Input:
		err = in.Validate()
	}
	return relabel(err, func(f string) string { return "data." + f })
}

// setUpdatedAt fills an input's updated_at when the sender gave none.
func setUpdatedAt(input any, t time.Time) {
	switch in := input.(type) {
	case *mirror.CustomerInput:
		if in.UpdatedAt == nil {
			in.UpdatedAt = &t
		}
	case *mirror.CrewInput:
		if in.UpdatedAt == nil {
			in.UpdatedAt = &t
		}
	case *mirror.VisitInput:
		if in.UpdatedAt == nil {
			in.UpdatedAt = &t
		}
	case *invoice.Input:
		if in.UpdatedAt == nil {
			in.UpdatedAt = &t
		}
	}
}

func isNull(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

// relabel returns err with its field names passed through name; other
// errors come back unchanged. The original error is not modified.
func relabel(err error, name func(field string) string) error {
	ae, ok := apperror.As(err)
	if !ok || len(ae.Fields) == 0 {
		return err
	}
	out := &apperror.Error{Code: ae.Code, Message: ae.Message, Fields: make(map[string]string, len(ae.Fields))}
	for k, v := range ae.Fields {
		out.Fields[name(k)] = v
	}
	return out
}
