// Package migrations holds the SQL schema of routeloop, one ordered set of
// files per dialect. Files are append-only: a migration that has shipped is
// never edited; a change is a new, higher-numbered file.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
