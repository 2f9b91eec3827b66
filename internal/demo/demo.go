// Package demo loads a realistic demo tenant.
package demo

import (
	"context"

	"github.com/routeloop/routeloop/internal/app"
)

// Result says what Seed loaded.
type Result struct {
	TenantID string
	APIKey   string
}

// Summary is one line for the terminal.
func (r Result) Summary() string { return "demo tenant " + r.TenantID }

// Seed loads the demo tenant (placeholder).
func Seed(ctx context.Context, a *app.App) (Result, error) { return Result{}, nil }
