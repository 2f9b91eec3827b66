package crew

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/text"
)

// Rating is one 1–5 rating of a visit by its customer. Every rating is
// kept: a later one is a new row beside it, never a replacement. A
// complaint stays open until a dispatcher resolves it with a note.
type Rating struct {
	ID             int64      `json:"id"`
	TenantID       string     `json:"-"`
	CustomerID     int64      `json:"-"`
	VisitID        int64      `json:"-"`
	Score          int        `json:"score"`
	Comment        string     `json:"comment"`
	Complaint      bool       `json:"complaint"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	ResolutionNote string     `json:"resolution_note"`
	ResolvedBy     string     `json:"resolved_by"`
	CreatedAt      time.Time  `json:"created_at"`
	// The scheduler's ids, filled for answers.
	Visit    string `json:"visit_id" gorm:"->"`
	Customer string `json:"customer_id" gorm:"->"`
}

// TableName is ratings.
func (Rating) TableName() string { return "ratings" }

// VisitRatings is what a visit's ratings say: the latest, whether a
// complaint is open, and every rating, newest first.
type VisitRatings struct {
	VisitID       string   `json:"visit_id"`
	CustomerID    string   `json:"customer_id"`
	Latest        Rating   `json:"latest"`
	OpenComplaint bool     `json:"open_complaint"`
	History       []Rating `json:"history"`
}

// RatingInput is the body of POST /visits/{external_id}/rating.
type RatingInput struct {
	Score     *int   `json:"score"`
	Comment   string `json:"comment"`
	Complaint bool   `json:"complaint"`
}

// MaxCommentLen bounds a rating's comment and a resolution's note.
const MaxCommentLen = 2000

func (in *RatingInput) validate() error {
	f := apperror.Fields{}
	in.Comment = strings.TrimSpace(in.Comment)
	switch {
	case in.Score == nil:
		f.Add("score", "is required: a whole number from 1 to 5")
	case *in.Score < 1 || *in.Score > 5:
		f.Add("score", "must be a whole number from 1 to 5")
	}
	text.Field(f, "comment", in.Comment, text.Free, false, MaxCommentLen)
	return f.Err()
}

// ResolveInput is the body of POST /visits/{external_id}/rating/resolve.
type ResolveInput struct {
	Note string `json:"note"`
}

func (in *ResolveInput) validate() error {
	in.Note = strings.TrimSpace(in.Note)
	switch {
	case in.Note == "":
		return apperror.Invalid("note", "is required: say how the complaint was resolved")
	}
	return text.Invalid("note", in.Note, text.Free, MaxCommentLen)
}

type visitRow struct {
	ID          int64
	ExternalID  string
	CustomerID  int64
	CrewID      *int64
	ServiceDate localdate.Date
	Status      string
}

func findVisit(db *gorm.DB, tenantID, externalID string) (*visitRow, error) {
	var vs []visitRow
	if err := db.Raw(`SELECT id, external_id, customer_id, crew_id, service_date, status FROM visits WHERE tenant_id = ? AND external_id = ?`,
		tenantID, externalID).Scan(&vs).Error; err != nil {
		return nil, fmt.Errorf("find visit: %w", err)
	}
	if len(vs) == 0 {
		return nil, nil
	}
	return &vs[0], nil
}

// Rate records a rating of a visit as a new row; earlier ratings and their
// complaints stay as they are (a later 5 closes no complaint). The same
// rating as the visit's latest again (a retried request: same score,
// comment and complaint, and that complaint still open) records nothing
// and answers Updated. The body is checked first, whatever is stored.
func (s *Service) Rate(ctx context.Context, tenantID, visitExt string, in RatingInput) (VisitRatings, store.Upserted, error) {
	if err := in.validate(); err != nil {
		return VisitRatings{}, store.Updated, err
	}
	now := s.clock.Now()
	up := store.Updated
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		up = store.Updated
		v, err := findVisit(tx, tenantID, visitExt)
		if err != nil {
			return err
		}
		if v == nil {
			return apperror.NotFound("visit %s not found", visitExt)
		}
		// The customer's lock orders two copies of one rating sent at once.
		if err := store.LockCustomers(tx, tenantID, v.CustomerID); err != nil {
			return err
		}
		var last []Rating
		if err := store.Tenant(tx, tenantID).Where("visit_id = ?", v.ID).Order("created_at DESC, id DESC").Limit(1).Find(&last).Error; err != nil {
			return fmt.Errorf("read rating: %w", err)
		}
		if len(last) == 1 && sameRating(last[0], in) {
			return nil
		}
		if err := tx.Exec(`INSERT INTO ratings (tenant_id, customer_id, visit_id, score, comment, complaint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			tenantID, v.CustomerID, v.ID, *in.Score, in.Comment, in.Complaint, now).Error; err != nil {
			return fmt.Errorf("save rating: %w", err)
		}
		up = store.Created
		return nil
	})
	if err != nil {
		return VisitRatings{}, store.Updated, err
	}
	r, err := s.VisitRatings(ctx, tenantID, visitExt)
	return r, up, err
}

// sameRating reports whether in repeats the stored rating r (a resolved
// complaint sent again is a new complaint).
func sameRating(r Rating, in RatingInput) bool {
	return r.Score == *in.Score && r.Comment == in.Comment && r.Complaint == in.Complaint && (!r.Complaint || r.ResolvedAt == nil)
}

// ResolveComplaint closes every open complaint of a visit, with the
// dispatcher's note and who resolved it. A note is required, checked
// first. A visit whose complaints are all resolved already answers as it
// is (a retry changes nothing); one that never had a complaint is refused.
func (s *Service) ResolveComplaint(ctx context.Context, tenantID, visitExt, actor string, in ResolveInput) (VisitRatings, error) {
	if err := in.validate(); err != nil {
		return VisitRatings{}, err
	}
	r, err := s.VisitRatings(ctx, tenantID, visitExt)
	if err != nil {
		return r, err
	}
	complained := false
	for _, h := range r.History {
		complained = complained || h.Complaint
	}
	if !complained {
		return r, apperror.Unprocessable("visit %s has no complaint to resolve", visitExt)
	}
	if !r.OpenComplaint {
		return r, nil
	}
	if err := s.store.DB.WithContext(ctx).Exec(`UPDATE ratings SET resolved_at = ?, resolution_note = ?, resolved_by = ?
		WHERE tenant_id = ? AND visit_id = (SELECT id FROM visits WHERE tenant_id = ? AND external_id = ?) AND complaint AND resolved_at IS NULL`,
		s.clock.Now(), in.Note, actor, tenantID, tenantID, visitExt).Error; err != nil {
		return r, fmt.Errorf("resolve complaint: %w", err)
	}
	return s.VisitRatings(ctx, tenantID, visitExt)
}

// VisitRatings reads a visit's ratings: the latest, every one newest
// first, and whether a complaint is open. A visit without ratings is not
// found.
func (s *Service) VisitRatings(ctx context.Context, tenantID, visitExt string) (VisitRatings, error) {
	db := s.store.DB.WithContext(ctx)
	var rs []Rating
	err := db.Table("ratings AS r").Select("r.*, v.external_id AS visit, c.external_id AS customer").
		Joins("JOIN visits v ON v.id = r.visit_id").Joins("JOIN customers c ON c.id = r.customer_id").
		Where("r.tenant_id = ? AND v.tenant_id = ? AND v.external_id = ?", tenantID, tenantID, visitExt).
		Order("r.created_at DESC, r.id DESC").Scan(&rs).Error
	if err != nil {
		return VisitRatings{}, fmt.Errorf("read ratings: %w", err)
	}
	if len(rs) == 0 {
		v, err := findVisit(db, tenantID, visitExt)
		if err != nil {
			return VisitRatings{}, err
		}
		if v == nil {
			return VisitRatings{}, apperror.NotFound("visit %s not found", visitExt)
		}
		return VisitRatings{}, apperror.NotFound("visit %s has no rating", visitExt)
	}
	out := VisitRatings{VisitID: rs[0].Visit, CustomerID: rs[0].Customer, Latest: rs[0], History: rs}
	for _, r := range rs {
		out.OpenComplaint = out.OpenComplaint || (r.Complaint && r.ResolvedAt == nil)
	}
	return out, nil
}
