package apperror

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// DecodeJSON reads exactly one JSON value from raw into v strictly: unknown
// fields are refused and trailing data is a bad request. A wrong type or an
// unknown field is a validation error naming its full path, prefix first:
// "members[0].name", "data.members[0].zz".
func DecodeJSON(raw []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeFailure(err, raw, reflect.TypeOf(v), prefix)
	}
	if _, err := dec.Token(); err != io.EOF {
		return BadRequest("the body must hold exactly one JSON object")
	}
	return nil
}

// decodeFailure explains why encoding/json refused raw. encoding/json names
// a nested field without its list index and an unknown field without its
// parents, so a well-formed body is walked again to find the full path.
func decodeFailure(err error, raw []byte, t reflect.Type, prefix string) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) || !json.Valid(raw) {
		return FromJSON(err, prefix)
	}
	p, ok := firstMismatch(raw, t, "")
	if !ok {
		return FromJSON(err, prefix)
	}
	if p.path == "" {
		if whole := strings.TrimSuffix(prefix, "."); whole != "" {
			return Invalid(whole, p.message)
		}
		return BadRequest("the body must be a JSON object")
	}
	return Invalid(prefix+p.path, p.message)
}

// mismatch is the first place where a JSON value does not fit the Go type.
type mismatch struct {
	path, message string
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// firstMismatch walks the well-formed JSON value raw against type t in
// document order and returns the first value t does not accept, under the
// rules encoding/json applies (null fits everything, field names match
// case-insensitively, types with their own UnmarshalJSON decide alone).
func firstMismatch(raw []byte, t reflect.Type, path string) (mismatch, bool) {
	raw = bytes.TrimSpace(raw)
	if t == nil || string(raw) == "null" {
		return mismatch{}, false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		var v time.Time
		if err := v.UnmarshalJSON(raw); err != nil {
			return mismatch{path, "must be an RFC 3339 time such as 2026-05-03T08:30:00Z"}, true
		}
		return mismatch{}, false
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return mismatch{path, err.Error()}, true
		}
		return mismatch{}, false
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return mismatch{path, "must be a string, not " + describe(raw)}, true
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return mismatch{path, err.Error()}, true
		}
		return mismatch{}, false
	}
	wrong := func(want string) (mismatch, bool) {
		return mismatch{path, fmt.Sprintf("must be %s, not %s", want, describe(raw))}, true
	}
	want := jsonKind(t.Kind().String()) // in the words FromJSON uses
	switch t.Kind() {
	case reflect.Interface:
		return mismatch{}, false
	case reflect.Struct:
		if raw[0] != '{' {
			return wrong(want)
		}
		fields := jsonFields(t)
		return eachMember(raw, func(key string, value []byte) (mismatch, bool) {
			f, ok := fields.find(key)
			if !ok {
				return mismatch{join(path, key), "is not a known field"}, true
			}
			return firstMismatch(value, f, join(path, key))
		})
	case reflect.Map:
		if raw[0] != '{' {
			return wrong(want)
		}
		return eachMember(raw, func(key string, value []byte) (mismatch, bool) {
			return firstMismatch(value, t.Elem(), join(path, key))
		})
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			if raw[0] != '"' {
				return wrong("a string")
			}
			return mismatch{}, false
		}
		if raw[0] != '[' {
			return wrong(want)
		}
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return mismatch{}, false
		}
		for i, item := range items {
			if m, ok := firstMismatch(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); ok {
				return m, true
			}
		}
		return mismatch{}, false
	case reflect.String:
		if raw[0] != '"' {
			return wrong(want)
		}
	case reflect.Bool:
		if string(raw) != "true" && string(raw) != "false" {
			return wrong(want)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, err := strconv.ParseInt(string(raw), 10, t.Bits()); err != nil {
			return wrong(want)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if _, err := strconv.ParseUint(string(raw), 10, t.Bits()); err != nil {
			return wrong(want)
		}
	case reflect.Float32, reflect.Float64:
		if !isNumber(raw) {
			return wrong(want)
		}
		if _, err := strconv.ParseFloat(string(raw), t.Bits()); err != nil {
			return wrong(want)
		}
	}
	return mismatch{}, false
}

// eachMember calls fn for each member of the JSON object raw, in order,
// until fn reports a mismatch.
func eachMember(raw []byte, fn func(key string, value []byte) (mismatch, bool)) (mismatch, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return mismatch{}, false
	}
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		if err != nil || !isKey {
			return mismatch{}, false
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return mismatch{}, false
		}
		if m, ok := fn(key, value); ok {
			return m, true
		}
	}
	return mismatch{}, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNumber(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

// describe names a JSON value the way encoding/json does in its errors:
// "string", "number 1.5", "object", "array", "bool".
func describe(raw []byte) string {
	switch {
	case raw[0] == '"':
		return "string"
	case raw[0] == '{':
		return "object"
	case raw[0] == '[':
		return "array"
	case raw[0] == 't' || raw[0] == 'f':
		return "bool"
	}
	return "number " + string(raw)
}

// fieldSet is the JSON names a struct type accepts, with their types.
type fieldSet map[string]reflect.Type

// find matches a member name as encoding/json does: exactly, else ignoring case.
func (fs fieldSet) find(key string) (reflect.Type, bool) {
	if t, ok := fs[key]; ok {
		return t, true
	}
	for name, t := range fs {
		if strings.EqualFold(name, key) {
			return t, true
		}
	}
	return nil, false
}

// jsonFields lists the JSON names of struct type t: exported fields by tag
// or Go name, "-" left out, fields of untagged embedded structs promoted
// unless a shallower field has the same name.
func jsonFields(t reflect.Type) fieldSet {
	out := fieldSet{}
	level := []reflect.Type{t}
	seen := map[reflect.Type]bool{}
	for len(level) > 0 {
		var next []reflect.Type
		names := fieldSet{}
		for _, st := range level {
			if seen[st] {
				continue
			}
			seen[st] = true
			for i := 0; i < st.NumField(); i++ {
				sf := st.Field(i)
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				ft := sf.Type
				if sf.Anonymous && name == "" {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if ft.Kind() == reflect.Struct {
						next = append(next, ft)
						continue
					}
				}
				if !sf.IsExported() {
					continue
				}
				if name == "" {
					name = sf.Name
				}
				if _, shadowed := out[name]; !shadowed {
					names[name] = sf.Type
				}
			}
		}
		for name, ft := range names {
			out[name] = ft
		}
		level = next
	}
	return out
}
