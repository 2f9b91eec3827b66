package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// Secret returns the named server secret (32 random bytes), making it on
// first use. Every replica reads the same one from the database.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	db := s.DB.WithContext(ctx)
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := db.Exec(`INSERT INTO app_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, hex.EncodeToString(b), time.Now().UTC()).Error; err != nil {
		return nil, fmt.Errorf("make secret %s: %w", name, err)
	}
	var v string
	if err := db.Raw(`SELECT value FROM app_secrets WHERE name = ?`, name).Scan(&v).Error; err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	return hex.DecodeString(v)
}
