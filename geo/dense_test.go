package geo

import (
	"fmt"
	"math"
)

// DenseMatrix is a Matrix held in two row-major n×n slices: the leg i → j
// is at index i*n+j. It is how a table service's answer (or a test's
// numbers) becomes a Matrix.
type DenseMatrix struct {
	n       int
	metres  []float64
	minutes []float64
}

// NewDenseMatrix wraps row-major metres and minutes of n points (each of
// length n*n, every entry finite and non-negative). The slices are kept,
// not copied: do not change them afterwards.
func NewDenseMatrix(n int, metres, minutes []float64) (*DenseMatrix, error) {
	if n < 0 || len(metres) != n*n || len(minutes) != n*n {
		return nil, fmt.Errorf("geo: a dense matrix of %d points needs %d metres and minutes, got %d and %d", n, n*n, len(metres), len(minutes))
	}
	for k := range metres {
		if !(metres[k] >= 0) || math.IsInf(metres[k], 0) || !(minutes[k] >= 0) || math.IsInf(minutes[k], 0) {
			return nil, fmt.Errorf("geo: leg %d → %d: metres %v and minutes %v must be finite and non-negative", k/n, k%n, metres[k], minutes[k])
		}
	}
	return &DenseMatrix{n: n, metres: metres, minutes: minutes}, nil
}

func (m *DenseMatrix) Size() int                { return m.n }
func (m *DenseMatrix) Metres(i, j int) float64  { return m.metres[i*m.n+j] }
func (m *DenseMatrix) Minutes(i, j int) float64 { return m.minutes[i*m.n+j] }
