package crew

import "gorm.io/gorm"

// ReferralClosed is the referral engine's OnClosed listener, for tests that
// deliver the same closing twice.
func (s *Service) ReferralClosed(tx *gorm.DB, tenantID string, referralID int64, status, reason string) error {
	return s.closed(tx, tenantID, referralID, status, reason)
}
