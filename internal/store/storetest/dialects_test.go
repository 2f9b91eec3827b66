package storetest

import (
	"slices"
	"testing"
)

func TestDialectsAreBothUnlessNamed(t *testing.T) {
	for named, want := range map[string][]string{
		"":                 {"sqlite", "postgres"},
		" ":                {"sqlite", "postgres"},
		"postgres":         {"postgres"},
		"sqlite":           {"sqlite"},
		" postgres,sqlite": {"postgres", "sqlite"},
	} {
		if got := dialects(named); !slices.Equal(got, want) {
			t.Errorf("dialects(%q) = %v, want %v", named, got, want)
		}
	}
}

func TestAnUnknownDialectIsRefused(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("dialects(\"mysql\") did not refuse it")
		}
	}()
	dialects("mysql")
}
