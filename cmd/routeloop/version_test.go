package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionSaysCommitAndBuildDate(t *testing.T) {
	recorded := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.time", Value: "2026-12-01T09:30:00Z"}, {Key: "vcs.modified", Value: "false"}}
	changed := append(append([]debug.BuildSetting{}, recorded[:2]...), debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	for _, c := range []struct {
		version, commit, date string
		settings              []debug.BuildSetting
		want                  string
	}{
		{"v1.2.3", "abc123", "2026-12-02T10:00:00Z", nil, "v1.2.3 (commit abc123, built 2026-12-02T10:00:00Z)"},
		{"v1.2.3", "abc123", "2026-12-02T10:00:00Z", recorded, "v1.2.3 (commit abc123, built 2026-12-02T10:00:00Z)"},
		{"", "", "", recorded, "dev (commit 0123456789ab, built 2026-12-01T09:30:00Z)"},
		{"", "", "", changed, "dev (commit 0123456789ab+changes, built 2026-12-01T09:30:00Z)"},
		{"v2", "", "", nil, "v2"},
		{"", "", "", nil, "dev"},
	} {
		if got := describeVersion(c.version, c.commit, c.date, c.settings); got != c.want {
			t.Errorf("describeVersion(%q, %q, %q, %v) = %q, want %q", c.version, c.commit, c.date, c.settings, got, c.want)
		}
	}
}

// What the go command records as the build's version is shown when it is a
// release tag, not when it is made up from the commit shown beside it.
func TestOnlyATaggedModuleVersionIsShown(t *testing.T) {
	for v, want := range map[string]string{
		"":                                   "",
		"(devel)":                            "",
		"v0.0.0-20261202143315-05630b1b417d": "",
		"v0.0.0-20261202143315-05630b1b417d+dirty": "",
		"v1.2.4-0.20261202143315-05630b1b417d":     "",
		"v1.2.3":                                   "v1.2.3",
		"v1.2.3+dirty":                             "v1.2.3",
		"v2.0.0-rc.1":                              "v2.0.0-rc.1",
	} {
		if got := moduleVersion(v); got != want {
			t.Errorf("moduleVersion(%q) = %q, want %q", v, got, want)
		}
	}
}
