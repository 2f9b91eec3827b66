package apperror

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFromJSONNamesWhatIsWrong(t *testing.T) {
	var v struct {
		Lat  float64 `json:"lat"`
		Name string  `json:"name"`
	}
	decode := func(s string) error {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		return FromJSON(dec.Decode(&v), "data.")
	}
	cases := []struct {
		body, code, field string
	}{
		{`{"lat": "north"}`, CodeValidation, "data.lat"},
		{`{"nmae": "x"}`, CodeValidation, "data.nmae"},
		{`{"lat": 1,`, CodeBadRequest, ""},
		{``, CodeBadRequest, ""},
		{`[1]`, CodeValidation, "data"},
	}
	for _, c := range cases {
		err := decode(c.body)
		e, ok := As(err)
		if !ok || e.Code != c.code || (c.field != "" && e.Fields[c.field] == "") {
			t.Errorf("%q: %v", c.body, err)
		}
	}
}
