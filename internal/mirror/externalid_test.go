package mirror_test

import (
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/mirror"
)

func TestWhatAnExternalIDMayBe(t *testing.T) {
	for id, ok := range map[string]bool{
		"cust-0001": true, "Z2lkOi8vSm9iYmVyL0NsaWVudC8xMjM=": true, "job_42.1:a@b~c+d": true,
		"müller-7": true, strings.Repeat("é", 128): true, strings.Repeat("a", 128): true,
		"": false, strings.Repeat("é", 129): false, "a/b": false, "a%2Fb": false, "a b": false,
		"a\x00b": false, "a\x1b[0m": false, "a\xffb": false, "a\nb": false, ".": false, "..": false,
		"a#b": false, "a?b": false, "a'b": false,
	} {
		if err := mirror.CheckExternalID(id); (err == nil) != ok {
			t.Errorf("CheckExternalID(%q): %v, want accepted=%v", id, err, ok)
		}
	}
}
