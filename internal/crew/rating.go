package crew

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
)

// Rating is a customer's 1–5 rating of a visit; one per visit, a new one
// replaces it. A complaint stays open until resolved.
type Rating struct {
	ID         int64      `json:"-"`
	TenantID   string     `json:"-"`
	CustomerID int64      `json:"-"`
	VisitID    int64      `json:"-"`
	Score      int        `json:"score"`
	Comment    string     `json:"comment"`
	Complaint  bool       `json:"complaint"`
	ResolvedAt *time.Time `json:"resolved_at"`
	CreatedAt  time.Time  `json:"created_at"`
	// The scheduler's ids, filled for answers.
	Visit    string `json:"visit_id" gorm:"->"`
	Customer string `json:"customer_id" gorm:"->"`
}

// TableName is ratings.
func (Rating) TableName() string { return "ratings" }

// RatingInput is the body of POST /visits/{external_id}/rating.
type RatingInput struct {
	Score     *int   `json:"score"`
	Comment   string `json:"comment"`
	Complaint bool   `json:"complaint"`
}

// MaxCommentLen bounds a rating's comment.
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
	if !utf8.ValidString(in.Comment) || utf8.RuneCountInString(in.Comment) > MaxCommentLen {
		f.Add("comment", fmt.Sprintf("must be valid text of at most %d characters", MaxCommentLen))
	}
	return f.Err()
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

// Rate records the customer's rating of a visit, replacing an earlier one
// (and reopening nothing: a replaced complaint is judged anew).
func (s *Service) Rate(ctx context.Context, tenantID, visitExt string, in RatingInput) (Rating, store.Upserted, error) {
	if err := in.validate(); err != nil {
		return Rating{}, store.Updated, err
	}
	now := s.clock.Now()
	var up store.Upserted
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		v, err := findVisit(tx, tenantID, visitExt)
		if err != nil {
			return err
		}
		if v == nil {
			return apperror.NotFound("visit %s not found", visitExt)
		}
		_, up, err = store.Upsert[Rating](tx, `
			INSERT INTO ratings (tenant_id, customer_id, visit_id, score, comment, complaint, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, visit_id) DO NOTHING RETURNING *`,
			[]any{tenantID, v.CustomerID, v.ID, *in.Score, in.Comment, in.Complaint, now}, `
			UPDATE ratings SET customer_id = ?, score = ?, comment = ?, complaint = ?, resolved_at = NULL, created_at = ?
			WHERE tenant_id = ? AND visit_id = ? RETURNING *`,
			[]any{v.CustomerID, *in.Score, in.Comment, in.Complaint, now, tenantID, v.ID})
		if err != nil {
			return fmt.Errorf("save rating: %w", err)
		}
		return nil
	})
	if err != nil {
		return Rating{}, store.Updated, err
	}
	r, err := s.rating(s.store.DB.WithContext(ctx), tenantID, visitExt)
	return r, up, err
}

// ResolveComplaint closes the complaint of a visit's rating; resolving a
// resolved one changes nothing.
func (s *Service) ResolveComplaint(ctx context.Context, tenantID, visitExt string) (Rating, error) {
	db := s.store.DB.WithContext(ctx)
	r, err := s.rating(db, tenantID, visitExt)
	if err != nil {
		return r, err
	}
	if !r.Complaint {
		return r, apperror.Unprocessable("the rating of visit %s is not a complaint", visitExt)
	}
	if err := db.Exec(`UPDATE ratings SET resolved_at = ? WHERE id = ? AND tenant_id = ? AND resolved_at IS NULL`,
		s.clock.Now(), r.ID, tenantID).Error; err != nil {
		return r, fmt.Errorf("resolve complaint: %w", err)
	}
	return s.rating(db, tenantID, visitExt)
}

func (s *Service) rating(db *gorm.DB, tenantID, visitExt string) (Rating, error) {
	var rs []Rating
	err := db.Table("ratings AS r").Select("r.*, v.external_id AS visit, c.external_id AS customer").
		Joins("JOIN visits v ON v.id = r.visit_id").Joins("JOIN customers c ON c.id = r.customer_id").
		Where("r.tenant_id = ? AND v.external_id = ?", tenantID, visitExt).Scan(&rs).Error
	if err != nil {
		return Rating{}, fmt.Errorf("read rating: %w", err)
	}
	if len(rs) == 0 {
		return Rating{}, apperror.NotFound("visit %s has no rating", visitExt)
	}
	return rs[0], nil
}
