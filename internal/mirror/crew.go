package mirror

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
)

// Crew is a team that drives out from a depot.
type Crew struct {
	ID         int64        `json:"-"`
	TenantID   string       `json:"-"`
	ExternalID string       `json:"external_id"`
	Name       string       `json:"name"`
	DepotLat   float64      `json:"depot_lat"`
	DepotLon   float64      `json:"depot_lon"`
	Members    []CrewMember `json:"members" gorm:"-"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`
}

// Depot is where the crew's day starts and ends.
func (c Crew) Depot() geo.Point { return geo.Point{Lat: c.DepotLat, Lon: c.DepotLon} }

// CrewMember is a person in a crew.
type CrewMember struct {
	ID         int64     `json:"-"`
	TenantID   string    `json:"-"`
	CrewID     int64     `json:"-"`
	ExternalID string    `json:"external_id"`
	Name       string    `json:"name"`
	Email      string    `json:"email"`
	Active     bool      `json:"-"`
	CreatedAt  time.Time `json:"-"`
	UpdatedAt  time.Time `json:"-"`
}

// CrewInput is the body of PUT /crews/{external_id}. Members not listed are
// kept (their points and pitches stay theirs) but leave the crew.
type CrewInput struct {
	Name     string        `json:"name"`
	DepotLat *float64      `json:"depot_lat"`
	DepotLon *float64      `json:"depot_lon"`
	Members  []MemberInput `json:"members"`
	// UpdatedAt: see CustomerInput.
	UpdatedAt *time.Time `json:"updated_at"`
}

// MemberInput is one member in CrewInput.
type MemberInput struct {
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	Email      string `json:"email"`
}

// Validate checks the input and normalises it in place.
func (in *CrewInput) Validate() error {
	f := apperror.Fields{}
	in.Name = strings.TrimSpace(in.Name)
	checkText(f, "name", in.Name, true, 200)
	if in.DepotLat == nil {
		f.Add("depot_lat", "is required")
	} else if err := geo.CheckLat(*in.DepotLat); err != nil {
		f.Add("depot_lat", err.Error())
	}
	if in.DepotLon == nil {
		f.Add("depot_lon", "is required")
	} else if err := geo.CheckLon(*in.DepotLon); err != nil {
		f.Add("depot_lon", err.Error())
	}
	if len(in.Members) > 100 {
		f.Add("members", "a crew has at most 100 members")
	}
	in.Members = append([]MemberInput(nil), in.Members...) // trimmed below: not the caller's copy
	seen := map[string]bool{}
	for i := range in.Members {
		m := &in.Members[i]
		field := fmt.Sprintf("members[%d]", i)
		m.Name = strings.TrimSpace(m.Name)
		m.Email = strings.TrimSpace(m.Email)
		if err := CheckExternalID(m.ExternalID); err != nil {
			f.Add(field+".external_id", err.Error())
		} else if seen[m.ExternalID] {
			f.Add(field+".external_id", "is listed twice")
		}
		seen[m.ExternalID] = true
		checkText(f, field+".name", m.Name, true, 200)
		checkEmail(f, field+".email", m.Email)
	}
	return f.Err()
}

// PutCrew creates or updates a crew and its member list in one transaction.
func (s *Service) PutCrew(ctx context.Context, tenantID, externalID string, in CrewInput) (Crew, store.Upserted, error) {
	if err := CheckExternalID(externalID); err != nil {
		return Crew{}, store.Updated, apperror.Invalid("external_id", err.Error())
	}
	if err := in.Validate(); err != nil {
		return Crew{}, store.Updated, err
	}
	now := s.clock.Now()
	var (
		crew Crew
		up   store.Upserted
	)
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		crew, up, err = store.Upsert[Crew](tx, `
			INSERT INTO crews (tenant_id, external_id, name, depot_lat, depot_lon, source_updated_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, external_id) DO NOTHING
			RETURNING *`,
			[]any{tenantID, externalID, in.Name, *in.DepotLat, *in.DepotLon, utc(in.UpdatedAt), now, now}, `
			UPDATE crews SET name = ?, depot_lat = ?, depot_lon = ?, source_updated_at = COALESCE(?, source_updated_at), updated_at = ?
			WHERE tenant_id = ? AND external_id = ?`+newerOnly(in.UpdatedAt)+`
			RETURNING *`,
			append([]any{in.Name, *in.DepotLat, *in.DepotLon, utc(in.UpdatedAt), now, tenantID, externalID}, newerArgs(in.UpdatedAt)...))
		if err != nil {
			return err
		}
		keep := make([]string, 0, len(in.Members))
		for _, m := range in.Members {
			keep = append(keep, m.ExternalID)
			err := tx.Exec(`
				INSERT INTO crew_members (tenant_id, crew_id, external_id, name, email, active, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, TRUE, ?, ?)
				ON CONFLICT (tenant_id, external_id) DO UPDATE
				SET crew_id = excluded.crew_id, name = excluded.name, email = excluded.email,
				    active = TRUE, updated_at = excluded.updated_at`,
				tenantID, crew.ID, m.ExternalID, m.Name, m.Email, now, now).Error
			if err != nil {
				return fmt.Errorf("put member %s: %w", m.ExternalID, err)
			}
		}
		leave := store.Tenant(tx, tenantID).Model(&CrewMember{}).Where("crew_id = ? AND active", crew.ID)
		if len(keep) > 0 {
			leave = leave.Where("external_id NOT IN ?", keep)
		}
		if err := leave.Updates(map[string]any{"active": false, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("retire members: %w", err)
		}
		return nil
	})
	if errors.Is(err, store.ErrStale) {
		cur, err := s.Crew(ctx, tenantID, externalID)
		return cur, store.Stale, err
	}
	if err != nil {
		return Crew{}, store.Updated, fmt.Errorf("put crew %s: %w", externalID, err)
	}
	ms, err := s.members(ctx, tenantID, []int64{crew.ID})
	if err != nil {
		return Crew{}, store.Updated, err
	}
	crew.Members = ms[crew.ID]
	return crew, up, nil
}

func (s *Service) members(ctx context.Context, tenantID string, crewIDs []int64) (map[int64][]CrewMember, error) {
	var ms []CrewMember
	err := store.Tenant(s.store.Conn(ctx), tenantID).
		Where("crew_id IN ? AND active", crewIDs).Order("crew_id, id").Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("list crew members: %w", err)
	}
	out := map[int64][]CrewMember{}
	for _, m := range ms {
		out[m.CrewID] = append(out[m.CrewID], m)
	}
	for _, id := range crewIDs {
		if out[id] == nil {
			out[id] = []CrewMember{}
		}
	}
	return out, nil
}

// Crew returns one crew with its active members.
func (s *Service) Crew(ctx context.Context, tenantID, externalID string) (Crew, error) {
	var c Crew
	err := store.Tenant(s.store.Conn(ctx), tenantID).Where("external_id = ?", externalID).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, apperror.NotFound("crew %s not found", externalID)
	}
	if err != nil {
		return c, fmt.Errorf("get crew: %w", err)
	}
	ms, err := s.members(ctx, tenantID, []int64{c.ID})
	if err != nil {
		return c, err
	}
	c.Members = ms[c.ID]
	return c, nil
}

// Crews lists crews in id order, one page at a time.
func (s *Service) Crews(ctx context.Context, tenantID string, p store.Page) ([]Crew, string, error) {
	var cs []Crew
	err := store.Tenant(s.store.Conn(ctx), tenantID).Where("id > ?", p.After).
		Order("id").Limit(p.Limit).Find(&cs).Error
	if err != nil {
		return nil, "", fmt.Errorf("list crews: %w", err)
	}
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	var last int64
	if len(cs) > 0 {
		ms, err := s.members(ctx, tenantID, ids)
		if err != nil {
			return nil, "", err
		}
		for i := range cs {
			cs[i].Members = ms[cs[i].ID]
		}
		last = cs[len(cs)-1].ID
	}
	return cs, p.Next(len(cs), last), nil
}
