// Package csvexport writes the CSV files routeloop hands to owners, so that
// opening one in a spreadsheet shows text and never runs it: every export
// goes through Write.
//
// A cell a spreadsheet would read as a formula — one starting with "=",
// "+", "-", "@", a tab or a carriage return — is prefixed with a single
// quote (OWASP's advice against CSV injection), so an offer named
// "=HYPERLINK(...)" arrives as that text. A number is not a formula: a
// cell that is a plain decimal number ("-450", "-0.25") is left alone, so
// negative amounts stay numbers. The file starts with a UTF-8 byte order
// mark, so spreadsheets read "€" and accents as such.
package csvexport

import (
	"encoding/csv"
	"io"
)

// BOM is the UTF-8 byte order mark every export starts with.
const BOM = "\uFEFF"

// Write writes the header and the rows as CSV to w: the byte order mark
// first, then every cell made safe by Cell.
func Write(w io.Writer, header []string, rows [][]string) error {
	if _, err := io.WriteString(w, BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(cells(header)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(cells(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func cells(r []string) []string {
	out := make([]string, len(r))
	for i, c := range r {
		out[i] = Cell(c)
	}
	return out
}

// Cell is c as a spreadsheet should show it: with a single quote in front
// when it would otherwise start a formula, unchanged when it is a number
// or plain text.
func Cell(c string) string {
	if c == "" || IsNumber(c) {
		return c
	}
	switch c[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + c
	}
	return c
}

// IsNumber reports whether c is a plain decimal number: an optional minus,
// digits, and optionally a point and more digits ("-450", "0.25"). Exponents,
// a leading plus and anything else are not numbers here.
func IsNumber(c string) bool {
	i := 0
	if i < len(c) && c[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(c) && c[i] >= '0' && c[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return false
	}
	if i < len(c) && c[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	return i == len(c)
}
