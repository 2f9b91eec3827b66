// Package migrations holds the SQL schema of routeloop, one ordered set of
// files per dialect. Files are append-only: a migration that has shipped is
// never edited; a change is a new, higher-numbered file, written for both
// databases. checksums.txt records every file's SHA-256, and a test fails
// when a recorded file changes, disappears or a new one is not recorded;
// `go generate ./migrations` records new files (it never rewrites a line).
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS

//go:generate go run ./internal/appendsums
