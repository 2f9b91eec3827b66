package scheduling

import "github.com/routeloop/routeloop/geo"

// geoCell is replaced by geo.Cell once it lands.
func geoCell(p geo.Point) int64 { return 0 }
