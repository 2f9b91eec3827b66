package tenant

import (
	"sync"
	"time"
)

// locations caches loaded time zones: LoadLocation reads and parses the zone
// database each call, which would otherwise happen on every request.
var locations sync.Map // string -> *time.Location

func loadLocation(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}
