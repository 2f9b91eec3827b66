package webhook

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
)

// CSV files routeloop imports: the header row names the columns, in any
// order; a column may be left out, external_id may not. Empty cells are
// "not given". Times are RFC 3339, dates YYYY-MM-DD, money in cents.
//
// Crews and invoices take one row per member or line: rows with the same
// external_id form one object (in the order their first row appears). Its
// own columns (crew name, depot; invoice customer, status, ...) are read
// from the first row that fills them; a later row may repeat them or leave
// them empty, but not contradict them. A row with its member or line
// columns all empty adds no member or line (a crew or invoice without any).
var CSVColumns = map[string][]string{
	"customers": {"external_id", "name", "email", "phone", "address", "lat", "lon", "consent_same_day", "updated_at"},
	"crews":     {"external_id", "name", "depot_lat", "depot_lon", "updated_at", "member_id", "member_name", "member_email"},
	"visits": {"external_id", "customer_id", "crew_id", "service_date", "start_at", "route_position", "duration_min",
		"status", "price_cents", "updated_at"},
	"invoices": {"external_id", "customer_id", "status", "issued_at", "updated_at", "visit_id", "description", "amount_cents"},
}

// groupColumns are the per-row (member or line) columns of grouped files.
var groupColumns = map[string][]string{
	"crews":    {"member_id", "member_name", "member_email"},
	"invoices": {"visit_id", "description", "amount_cents"},
}

// CSVKindOf names the kind of file by its name ("customers.csv",
// "visits-2026-05.csv"), or "" when the name does not tell.
func CSVKindOf(path string) string {
	base := strings.ToLower(filepath.Base(path))
	for _, k := range []string{"customers", "crews", "visits", "invoices"} {
		if strings.HasPrefix(base, k) {
			return k
		}
	}
	return ""
}

// RowError says why the object of some rows was not loaded.
type RowError struct {
	Lines      []int // file lines (the header is line 1)
	ExternalID string
	Err        *ObjectError
}

func (e RowError) String() string {
	parts := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		parts[i] = strconv.Itoa(l)
	}
	word := "row"
	if len(e.Lines) > 1 {
		word = "rows"
	}
	msg := e.Err.Message
	if len(e.Err.Fields) > 0 {
		fields := make([]string, 0, len(e.Err.Fields))
		for f, m := range e.Err.Fields {
			fields = append(fields, f+": "+m)
		}
		sort.Strings(fields)
		msg = strings.Join(fields, "; ")
	}
	return fmt.Sprintf("%s %s (external_id %q): %s", word, strings.Join(parts, ", "), e.ExternalID, msg)
}

// ImportReport sums up an import. Created, Updated, Stale and Failed count
// objects (a crew or invoice may span several rows).
type ImportReport struct {
	Kind                            string
	Rows, Objects                   int
	Created, Updated, Stale, Failed int
	Errors                          []RowError
}

// ImportCSV loads a CSV file of one kind (customers, crews, visits,
// invoices) into the tenant, each object through its Put function. A file
// that cannot be read as that kind (bad CSV, unknown or missing columns)
// loads nothing and is an error; a bad row fails only its object and is
// listed in the report. progress, if not nil, hears after each object how
// many of the file's rows are done. A file that wrote AnalyzeAfter objects
// or more then refreshes the statistics of the tables it wrote.
func (s *Service) ImportCSV(ctx context.Context, tenantID, kind string, r io.Reader, progress func(done, total int)) (ImportReport, error) {
	rep := ImportReport{Kind: kind}
	if _, ok := CSVColumns[kind]; !ok {
		return rep, apperror.Invalid("type", "must be customers, crews, visits or invoices")
	}
	t, err := s.lookupTenant(ctx, tenantID)
	if err != nil {
		return rep, err
	}
	groups, rows, err := readCSV(kind, r)
	if err != nil {
		return rep, err
	}
	rep.Rows, rep.Objects = rows, len(groups)
	done := 0
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		status, err := s.importGroup(ctx, t, kind, g)
		if err != nil {
			ae, ok := apperror.As(err)
			if !ok {
				return rep, err
			}
			rep.Errors = append(rep.Errors, RowError{Lines: g.lines, ExternalID: g.externalID,
				Err: &ObjectError{Code: ae.Code, Message: ae.Message, Fields: ae.Fields}})
			rep.Failed++
		}
		switch status {
		case store.Created:
			rep.Created++
		case store.Updated:
			rep.Updated++
		case store.Stale:
			rep.Stale++
		}
		done += len(g.lines)
		if progress != nil {
			progress(done, rows)
		}
	}
	s.analyzeImported(ctx, map[string]int{csvKinds[kind]: rep.Created + rep.Updated})
	return rep, nil
}

// csvKinds are the kinds of object of each kind of file.
var csvKinds = map[string]string{"customers": KindCustomer, "crews": KindCrew, "visits": KindVisit, "invoices": KindInvoice}

// csvGroup is the rows of one object: cells by column name.
type csvGroup struct {
	externalID string
	lines      []int
	rows       []map[string]string
	err        error // the rows could not be read
}

// readCSV reads the whole file and groups its rows by object.
func readCSV(kind string, r io.Reader) ([]*csvGroup, int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a short or long row fails alone, below
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, 0, apperror.BadRequest("the file is empty; its first row must name the columns")
	}
	if err != nil {
		return nil, 0, apperror.BadRequest("the file is not valid CSV: %s", err.Error())
	}
	allowed := map[string]bool{}
	for _, c := range CSVColumns[kind] {
		allowed[c] = true
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		header[i] = h
		switch {
		case !allowed[h]:
			return nil, 0, apperror.BadRequest("column %q is not one of %s' columns: %s", h, kind, strings.Join(CSVColumns[kind], ","))
		case seen[h]:
			return nil, 0, apperror.BadRequest("column %q is named twice", h)
		}
		seen[h] = true
	}
	if !seen["external_id"] {
		return nil, 0, apperror.BadRequest("the header has no external_id column")
	}
	var (
		groups []*csvGroup
		byID   = map[string]*csvGroup{}
		rows   int
	)
	_, grouped := groupColumns[kind]
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, apperror.BadRequest("the file is not valid CSV: %s", err.Error())
		}
		line, _ := cr.FieldPos(0)
		rows++
		if len(rec) != len(header) {
			groups = append(groups, &csvGroup{externalID: rec[0], lines: []int{line},
				err: apperror.BadRequest("the row has %d cells, the header %d", len(rec), len(header))})
			continue
		}
		cells := make(map[string]string, len(header))
		for i, h := range header {
			cells[h] = strings.TrimSpace(rec[i])
		}
		id := cells["external_id"]
		g := byID[id]
		if g == nil || !grouped {
			g = &csvGroup{externalID: id}
			groups = append(groups, g)
			byID[id] = g
		}
		g.lines = append(g.lines, line)
		g.rows = append(g.rows, cells)
	}
	return groups, rows, nil
}

// importGroup builds the Put input from one object's rows and writes it.
func (s *Service) importGroup(ctx context.Context, t Tenant, kind string, g *csvGroup) (store.Upserted, error) {
	if g.err != nil {
		return "", g.err
	}
	f := apperror.Fields{}
	c := cells{f: f, row: g.rows[0]}
	o := object{ExternalID: g.externalID}
	switch kind {
	case "customers":
		o.Kind = KindCustomer
		o.input = &mirror.CustomerInput{Name: c.text("name"), Email: c.text("email"), Phone: c.text("phone"),
			Address: c.text("address"), Lat: c.float("lat"), Lon: c.float("lon"), ConsentSameDay: c.boolean("consent_same_day"),
			UpdatedAt: c.time("updated_at")}
	case "visits":
		o.Kind = KindVisit
		o.input = &mirror.VisitInput{CustomerID: c.text("customer_id"), CrewID: c.optText("crew_id"),
			ServiceDate: c.text("service_date"), StartAt: c.optText("start_at"), RoutePosition: c.integer("route_position"),
			DurationMin: c.integer("duration_min"), Status: c.text("status"), PriceCents: c.cents("price_cents"),
			UpdatedAt: c.time("updated_at")}
	case "crews":
		o.Kind = KindCrew
		c.row = merged(f, g.rows, "name", "depot_lat", "depot_lon", "updated_at")
		in := &mirror.CrewInput{Name: c.text("name"), DepotLat: c.float("depot_lat"), DepotLon: c.float("depot_lon"),
			UpdatedAt: c.time("updated_at"), Members: []mirror.MemberInput{}}
		for _, row := range g.rows {
			m := cells{f: f, row: row}
			if allEmpty(row, groupColumns[kind]) {
				continue
			}
			in.Members = append(in.Members, mirror.MemberInput{ExternalID: m.text("member_id"), Name: m.text("member_name"), Email: m.text("member_email")})
		}
		o.input = in
	case "invoices":
		o.Kind = KindInvoice
		c.row = merged(f, g.rows, "customer_id", "status", "issued_at", "updated_at")
		in := &invoice.Input{CustomerID: c.text("customer_id"), Status: c.text("status"), IssuedAt: c.time("issued_at"),
			UpdatedAt: c.time("updated_at"), Lines: []invoice.LineInput{}}
		for _, row := range g.rows {
			l := cells{f: f, row: row}
			if allEmpty(row, groupColumns[kind]) {
				continue
			}
			in.Lines = append(in.Lines, invoice.LineInput{VisitID: l.optText("visit_id"), Description: l.text("description"),
				AmountCents: l.cents("amount_cents")})
		}
		o.input = in
	}
	if err := f.Err(); err != nil {
		return "", err
	}
	return s.apply(ctx, t, o)
}

// merged takes each object column from the first row that fills it, and
// flags a later row that says otherwise.
func merged(f apperror.Fields, rows []map[string]string, cols ...string) map[string]string {
	out := map[string]string{}
	for _, col := range cols {
		for _, row := range rows {
			v := row[col]
			switch {
			case v == "":
			case out[col] == "":
				out[col] = v
			case out[col] != v:
				f.Add(col, fmt.Sprintf("rows of one object disagree: %q and %q", out[col], v))
			}
		}
	}
	return out
}

func allEmpty(row map[string]string, cols []string) bool {
	for _, c := range cols {
		if row[c] != "" {
			return false
		}
	}
	return true
}

// cells reads typed values from one row, noting unreadable ones in f.
type cells struct {
	f   apperror.Fields
	row map[string]string
}

func (c cells) text(col string) string { return c.row[col] }

func (c cells) optText(col string) *string {
	if v := c.row[col]; v != "" {
		return &v
	}
	return nil
}

func (c cells) float(col string) *float64 {
	v := c.row[col]
	if v == "" {
		return nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		c.f.Add(col, "must be a number, not "+strconv.Quote(v))
		return nil
	}
	return &x
}

func (c cells) integer(col string) *int {
	v := c.row[col]
	if v == "" {
		return nil
	}
	x, err := strconv.Atoi(v)
	if err != nil {
		c.f.Add(col, "must be a whole number, not "+strconv.Quote(v))
		return nil
	}
	return &x
}

func (c cells) cents(col string) int64 {
	v := c.row[col]
	if v == "" {
		return 0
	}
	x, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		c.f.Add(col, "must be a whole number of cents, not "+strconv.Quote(v))
	}
	return x
}

func (c cells) boolean(col string) bool {
	switch strings.ToLower(c.row[col]) {
	case "", "false", "0", "no", "n":
		return false
	case "true", "1", "yes", "y":
		return true
	}
	c.f.Add(col, "must be true or false, not "+strconv.Quote(c.row[col]))
	return false
}

func (c cells) time(col string) *time.Time {
	v := c.row[col]
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		c.f.Add(col, "must be an RFC 3339 time such as 2026-05-03T08:30:00Z")
		return nil
	}
	return &t
}
