// Package insight answers the owner's questions: does the program earn more
// than it costs (KPIs with ROI and route savings), which offer or script
// converts better (A/B with a two-proportion z-test), and what word of mouth
// the ratings predict.
package insight

import (
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
)

// Service computes insights.
type Service struct {
	store *store.Store
	clock clock.Clock
}

// NewService returns the insight service.
func NewService(s *store.Store, c clock.Clock) *Service { return &Service{store: s, clock: c} }
