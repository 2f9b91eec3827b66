package csvexport_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/csvexport"
)

func TestCellsThatWouldBeFormulasAreQuoted(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("https://evil.example","Claim")`: `'=HYPERLINK("https://evil.example","Claim")`,
		"+1 503 555 0142":  "'+1 503 555 0142",
		"-2+3":             "'-2+3",
		"@SUM(A1:A9)":      "'@SUM(A1:A9)",
		"\t=1":             "'\t=1",
		"\r=1":             "'\r=1",
		"-":                "'-",
		"-.5":              "'-.5",
		"-1e5":             "'-1e5",
		"-450":             "-450",
		"-0.25":            "-0.25",
		"1200":             "1200",
		"0.1":              "0.1",
		"Spring 10% off":   "Spring 10% off",
		"A":                "A",
		"":                 "",
		"Angie = customer": "Angie = customer",
		"2026-05-01":       "2026-05-01",
	} {
		if got := csvexport.Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAnExportStartsWithTheBOMAndReadsBackAsText(t *testing.T) {
	var b bytes.Buffer
	rows := [][]string{{`=HYPERLINK("x")`, "-450"}, {"Café €", "@x"}}
	if err := csvexport.Write(&b, []string{"offer", "net_cents"}, rows); err != nil {
		t.Fatal(err)
	}
	body, ok := strings.CutPrefix(b.String(), csvexport.BOM)
	if !ok {
		t.Fatalf("no byte order mark: %q", b.String())
	}
	got, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"offer", "net_cents"}, {`'=HYPERLINK("x")`, "-450"}, {"Café €", "'@x"}}
	if len(got) != len(want) {
		t.Fatalf("read %q", got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Fatalf("row %d: %q, want %q", i, got[i], want[i])
		}
	}
}
