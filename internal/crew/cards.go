package crew

import (
	"context"
	"fmt"
	"strings"
)

// CardCustomer is a customer found by name, to print referral cards for.
type CardCustomer struct {
	ExternalID string
	Name       string
	Address    string
}

// maxSearchWords bounds how many words of a name search are matched.
const maxSearchWords = 5

// FindCustomers lists the tenant's customers whose name holds every word of
// query (case-insensitive, anywhere in the name: "ben ok" finds "Ben
// Okafor"), by name, at most limit; more says there were others. An empty
// query finds nobody.
func (s *Service) FindCustomers(ctx context.Context, tenantID, query string, limit int) (found []CardCustomer, more bool, err error) {
	words := strings.Fields(strings.ToLower(query))
	if len(words) == 0 || limit <= 0 {
		return nil, false, nil
	}
	if len(words) > maxSearchWords {
		words = words[:maxSearchWords]
	}
	q := s.store.DB.WithContext(ctx).Table("customers").Select("external_id, name, address").Where("tenant_id = ?", tenantID)
	for _, w := range words {
		q = q.Where(`LOWER(name) LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(w)+"%")
	}
	if err := q.Order("name").Order("id").Limit(limit + 1).Scan(&found).Error; err != nil {
		return nil, false, fmt.Errorf("find customers by name: %w", err)
	}
	if len(found) > limit {
		return found[:limit], true, nil
	}
	return found, false, nil
}

// likeEscaper makes a typed word match itself in LIKE: "50%" is not a
// pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
