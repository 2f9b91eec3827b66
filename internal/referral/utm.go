package referral

import (
	"encoding/json"
	"math"
	"net/url"
	"strings"

	"github.com/routeloop/routeloop/internal/text"
)

// UTM are the utm_* parameters of the link a friend came through (a
// campaign's tags), kept on the link visit and on the referral made from
// it: {"utm_source": "newsletter", ...}.
type UTM map[string]string

// UTMKeys are the parameters kept; any other is ignored.
var UTMKeys = []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// MaxUTMLen bounds a kept value, in characters: a longer one is cut.
const MaxUTMLen = 100

// ParseUTM keeps of a link's query what routeloop records: the UTMKeys
// only, each's first value, trimmed; a value that is not one line of text
// (a control character, invalid UTF-8) is dropped, a longer one cut to
// MaxUTMLen characters, an empty one left out. Nothing else is kept.
func ParseUTM(q url.Values) UTM {
	out := UTM{}
	for _, k := range UTMKeys {
		v := strings.TrimSpace(q.Get(k))
		if v == "" || text.Check(v, text.Line, math.MaxInt) != nil {
			continue
		}
		if text.Len(v) > MaxUTMLen {
			v = strings.TrimSpace(string([]rune(v)[:MaxUTMLen]))
		}
		out[k] = v
	}
	return out
}

// Query is the UTM as a query string ("utm_source=...&..."), sorted.
func (u UTM) Query() string {
	q := url.Values{}
	for k, v := range u {
		q.Set(k, v)
	}
	return q.Encode()
}

// stored is the UTM as stored: a JSON object, or ” when there is none.
// What is stored passes ParseUTM again, so nothing raw reaches a column.
func (u UTM) stored() string {
	q := url.Values{}
	for k, v := range u {
		q.Set(k, v)
	}
	clean := ParseUTM(q)
	if len(clean) == 0 {
		return ""
	}
	b, _ := json.Marshal(clean)
	return string(b)
}

// readUTM decodes a stored UTM (” or a JSON object).
func readUTM(s string) UTM {
	u := UTM{}
	_ = json.Unmarshal([]byte(s), &u)
	return u
}
