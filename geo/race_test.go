//go:build race

package geo

// raceEnabled: under the race detector the single-goroutine route checks
// run on fewer instances (the plain run checks them at full size; what the
// race detector looks for is in the concurrent tests).
const raceEnabled = true
