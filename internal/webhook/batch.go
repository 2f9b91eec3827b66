package webhook

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
)

// MaxBatchObjects bounds one sync batch.
const MaxBatchObjects = 5000

// BatchInput is the body of POST /api/v1/sync/batch.
type BatchInput struct {
	Objects []BatchObject `json:"objects"`
}

// BatchObject is one object of a batch: data is the body of the matching PUT.
type BatchObject struct {
	Type       string          `json:"type"` // customer, crew, visit or invoice
	ExternalID string          `json:"external_id"`
	Data       json.RawMessage `json:"data"`
}

// Object outcomes in a batch besides store.Created, Updated and Stale.
const StatusError = "error"

// BatchResult says what became of one object.
type BatchResult struct {
	Index      int          `json:"index"`
	Type       string       `json:"type"`
	ExternalID string       `json:"external_id"`
	Status     string       `json:"status"` // created, updated, stale or error
	Error      *ObjectError `json:"error,omitempty"`
}

// ObjectError is why one object was refused, shaped like an API error.
type ObjectError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// BatchReport is the answer to a batch.
type BatchReport struct {
	Results []BatchResult `json:"results"`
	Created int           `json:"created"`
	Updated int           `json:"updated"`
	Stale   int           `json:"stale"`
	Failed  int           `json:"failed"`
}

// count adds one outcome to the totals.
func (r *BatchReport) count(status string) {
	switch status {
	case string(store.Created):
		r.Created++
	case string(store.Updated):
		r.Updated++
	case string(store.Stale):
		r.Stale++
	default:
		r.Failed++
	}
}

// ApplyBatch writes the objects in the given order (customers before the
// visits that name them), each through its Put function and each on its
// own: a refused object is reported in its result and does not stop the
// others. Only a failure of routeloop itself (the database) ends the batch
// with an error; the objects before it stay written, and sending the batch
// again is safe. A batch that wrote AnalyzeAfter objects or more then
// refreshes the statistics of the tables it wrote.
func (s *Service) ApplyBatch(ctx context.Context, t Tenant, in BatchInput) (BatchReport, error) {
	if in.Objects == nil {
		return BatchReport{}, apperror.Invalid("objects", "is required: a list of {type, external_id, data}")
	}
	if len(in.Objects) > MaxBatchObjects {
		return BatchReport{}, &apperror.Error{Code: apperror.CodeTooLarge,
			Message: "a batch holds at most 5000 objects; split it into several calls"}
	}
	rep := BatchReport{Results: make([]BatchResult, 0, len(in.Objects))}
	written := map[string]int{} // objects created or updated, by kind
	for i, o := range in.Objects {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r := BatchResult{Index: i, Type: o.Type, ExternalID: o.ExternalID}
		up, err := s.applyObject(ctx, t, o)
		if err != nil {
			ae, ok := apperror.As(err)
			if !ok {
				return rep, err
			}
			r.Status = StatusError
			r.Error = &ObjectError{Code: ae.Code, Message: ae.Message, Fields: ae.Fields}
		} else {
			r.Status = string(up)
		}
		rep.count(r.Status)
		rep.Results = append(rep.Results, r)
		if r.Status == string(store.Created) || r.Status == string(store.Updated) {
			written[o.Type]++
		}
	}
	s.analyzeImported(ctx, written)
	return rep, nil
}

// applyObject decodes and writes one batch object. Field names in its errors
// are relative to the object: external_id, data.<field>.
func (s *Service) applyObject(ctx context.Context, t Tenant, o BatchObject) (store.Upserted, error) {
	known := false
	for _, k := range Kinds {
		known = known || k == o.Type
	}
	if !known {
		return "", apperror.Invalid("type", "must be one of "+strings.Join(Kinds, ", "))
	}
	if isNull(o.Data) {
		return "", apperror.Invalid("data", "is required: the body of the matching PUT")
	}
	obj, err := decodeObject(o.Type, o.Data, false, "data.")
	if err != nil {
		return "", err
	}
	obj.ExternalID = o.ExternalID
	up, err := s.apply(ctx, t, obj)
	if err != nil {
		return "", relabel(err, func(f string) string {
			if f == "external_id" {
				return f
			}
			return "data." + f
		})
	}
	return up, nil
}
