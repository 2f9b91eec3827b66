package invoice

import "context"

// ReadNow reads the invoice whole, as Get does when it has not seen it at
// its current version.
func (s *Service) ReadNow(ctx context.Context, tenantID, externalID string) (Invoice, error) {
	return s.read(ctx, tenantID, externalID)
}
