package apperror

import (
	"testing"
	"time"
)

type crewBody struct {
	Name    string   `json:"name"`
	DepotAt *float64 `json:"depot_lat"`
	Members []struct {
		ExternalID string `json:"external_id"`
		Name       string `json:"name"`
		Active     *bool  `json:"active"`
	} `json:"members"`
}

type invoiceBody struct {
	Lines []struct {
		AmountCents int64      `json:"amount_cents"`
		At          *time.Time `json:"at"`
	} `json:"lines"`
	Tags map[string]int `json:"tags"`
}

// withID is a webhook's data: the PUT body plus the scheduler's id.
type withID struct {
	ExternalID string `json:"external_id"`
	crewBody
}

func TestDecodeJSONNamesTheFullPath(t *testing.T) {
	cases := []struct {
		name, body, prefix string
		into               func() any
		code, field, msg   string
	}{
		{"unknown field in a list item", `{"members": [{"name": "Sam"}, {"name": "Kim", "zz": 1}]}`, "",
			func() any { return &crewBody{} }, CodeValidation, "members[1].zz", "is not a known field"},
		{"unknown field under data", `{"external_id": "north", "members": [{"zz": 1}]}`, "data.",
			func() any { return &withID{} }, CodeValidation, "data.members[0].zz", "is not a known field"},
		{"wrong type in a list item", `{"members": [{"name": 7}]}`, "",
			func() any { return &crewBody{} }, CodeValidation, "members[0].name", "must be a string, not number 7"},
		{"wrong type under data", `{"members": [{}, {}, {"active": "yes"}]}`, "data.",
			func() any { return &withID{} }, CodeValidation, "data.members[2].active", "must be true or false, not string"},
		{"fraction for cents", `{"lines": [{"amount_cents": 10}, {"amount_cents": 10.5}]}`, "",
			func() any { return &invoiceBody{} }, CodeValidation, "lines[1].amount_cents", "must be a whole number, not number 10.5"},
		{"a time that is not one", `{"lines": [{"at": "tomorrow"}]}`, "",
			func() any { return &invoiceBody{} }, CodeValidation, "lines[0].at", "must be an RFC 3339 time such as 2026-05-03T08:30:00Z"},
		{"a map value", `{"tags": {"a": 1, "b": "x"}}`, "",
			func() any { return &invoiceBody{} }, CodeValidation, "tags.b", "must be a whole number, not string"},
		{"an object for a list", `{"members": {"name": "Sam"}}`, "",
			func() any { return &crewBody{} }, CodeValidation, "members", "must be a list, not object"},
		{"text for a number", `{"depot_lat": "45.5"}`, "",
			func() any { return &crewBody{} }, CodeValidation, "depot_lat", "must be a number, not string"},
		{"a top-level unknown field", `{"nmae": "North"}`, "",
			func() any { return &crewBody{} }, CodeValidation, "nmae", "is not a known field"},
		{"the promoted field of an embedded body", `{"external_id": 5}`, "data.",
			func() any { return &withID{} }, CodeValidation, "data.external_id", "must be a string, not number 5"},
		{"a list for the body", `[1]`, "",
			func() any { return &crewBody{} }, CodeBadRequest, "", ""},
		{"a list for data", `[1]`, "data.",
			func() any { return &withID{} }, CodeValidation, "data", "must be an object, not array"},
		{"malformed", `{"members": [`, "",
			func() any { return &crewBody{} }, CodeBadRequest, "", ""},
		{"two values", `{} {}`, "",
			func() any { return &crewBody{} }, CodeBadRequest, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := DecodeJSON([]byte(c.body), c.into(), c.prefix)
			e, ok := As(err)
			if !ok || e.Code != c.code {
				t.Fatalf("%s: %v, want code %s", c.body, err, c.code)
			}
			if c.field != "" && e.Fields[c.field] != c.msg {
				t.Errorf("%s: fields %v, want %s: %q", c.body, e.Fields, c.field, c.msg)
			}
		})
	}
}

func TestDecodeJSONAcceptsWhatEncodingJSONAccepts(t *testing.T) {
	var v withID
	body := `{"External_ID": "north", "NAME": "North", "depot_lat": null, "members": [{"external_id": "sam", "active": true}]}`
	if err := DecodeJSON([]byte(body), &v, "data."); err != nil {
		t.Fatal(err)
	}
	if v.ExternalID != "north" || v.Name != "North" || len(v.Members) != 1 || !*v.Members[0].Active {
		t.Errorf("decoded %+v", v)
	}
}
