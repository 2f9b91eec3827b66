// Package templates holds routeloop's HTML pages (html/template), embedded
// in the binary.
package templates

import "embed"

// FS holds every page and partial.
//
//go:embed *.html
var FS embed.FS
