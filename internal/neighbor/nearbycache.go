package neighbor

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/store"
)

// The nearby search answers from each tenant's located customers held in
// memory (a geo.Index), which is several times cheaper than reading the
// candidates from the database on every request.
//
// It never answers from a copy older than an acknowledged write, on any
// replica: every transaction that adds a customer or changes what the search
// answers with raises the tenant's change counter (customer_versions,
// migration 0023, kept by the database's own triggers whichever code writes)
// and marks the rows it wrote (PostgreSQL: with its transaction id; SQLite:
// with the new counter value). Each search reads the counter in the one
// statement it makes anyway (the customer's links); when it is past the
// copy's, the rows changed since the copy was read are read first and the
// copy moves forward. A tenant whose copy is not loaded yet is
// answered from the database while it loads in the background.
//
// Memory: ≈ 190 bytes a customer (measured by BenchmarkNearbyCacheMemory:
// the row with its three strings, the index entry and the external-id map),
// so the default limit of 1,000,000 customers across tenants is ≈ 190 MB.
// Beyond the limit the least recently searched tenants are dropped, and a
// tenant larger than the limit on its own is answered from the database.

// cachedCustomer is what the search answers with.
type cachedCustomer struct {
	ID             int64
	Lat, Lon       float64
	ExternalID     string
	Name           string
	Address        string
	ConsentSameDay bool
}

// nearbyCopy is one tenant's customers at one counter value. It is never
// changed once published: a newer one replaces it.
type nearbyCopy struct {
	at cursor
	// base holds the customers as of the last rebuild; Item.ID is the
	// position in rows.
	base  *geo.Index
	rows  []cachedCustomer
	byExt map[string]int32
	// changed holds the customers added or changed since the rebuild, by
	// id; a customer changed to have no location is there with located false.
	changed      map[int64]changedCustomer
	changedByExt map[string]int64
}

type changedCustomer struct {
	cachedCustomer
	located bool
}

// size is how many customers the copy holds.
func (c *nearbyCopy) size() int { return len(c.rows) + len(c.changed) }

// lookup finds a located customer by external id.
func (c *nearbyCopy) lookup(ext string) (cachedCustomer, bool) {
	if id, ok := c.changedByExt[ext]; ok {
		ch := c.changed[id]
		return ch.cachedCustomer, ch.located
	}
	i, ok := c.byExt[ext]
	if !ok {
		return cachedCustomer{}, false
	}
	row := c.rows[i]
	if _, moved := c.changed[row.ID]; moved {
		return cachedCustomer{}, false // its external id was changed since
	}
	return row, true
}

// within calls fn for every located customer within radiusM of p, in no
// particular order (the search sorts its answer once, by rounded distance).
func (c *nearbyCopy) within(p geo.Point, radiusM float64, fn func(cachedCustomer, float64)) {
	c.base.Each(p, radiusM, func(h geo.Hit) {
		row := c.rows[h.ID]
		if _, ok := c.changed[row.ID]; ok {
			return
		}
		fn(row, h.DistanceM)
	})
	for _, ch := range c.changed {
		if !ch.located {
			continue
		}
		if d := geo.DistanceM(p, geo.Point{Lat: ch.Lat, Lon: ch.Lon}); d <= radiusM {
			fn(ch.cachedCustomer, d)
		}
	}
}

// newNearbyCopy builds a copy from every located customer.
func newNearbyCopy(at cursor, rows []cachedCustomer) *nearbyCopy {
	items := make([]geo.Item, len(rows))
	byExt := make(map[string]int32, len(rows))
	for i, r := range rows {
		items[i] = geo.Item{ID: int64(i), Point: geo.Point{Lat: r.Lat, Lon: r.Lon}}
		byExt[r.ExternalID] = int32(i)
	}
	return &nearbyCopy{at: at, base: geo.NewIndex(items), rows: rows, byExt: byExt,
		changed: map[int64]changedCustomer{}, changedByExt: map[string]int64{}}
}

// advance returns the copy with the rows changed since it applied, as of
// at. It folds everything into a new base once the
// changes are more than a small share of the copy, so a search costs the
// index and a short list.
func (c *nearbyCopy) advance(at cursor, rows []stampedCustomer) *nearbyCopy {
	changed := make(map[int64]changedCustomer, len(c.changed)+len(rows))
	for id, ch := range c.changed {
		changed[id] = ch
	}
	for _, r := range rows {
		changed[r.ID] = changedCustomer{cachedCustomer: r.cachedCustomer, located: r.HasLocation}
	}
	if len(changed) > max(256, len(c.rows)/32) {
		return newNearbyCopy(at, c.merged(changed))
	}
	byExt := make(map[string]int64, len(changed))
	for id, ch := range changed {
		byExt[ch.ExternalID] = id
	}
	return &nearbyCopy{at: at, base: c.base, rows: c.rows, byExt: c.byExt,
		changed: changed, changedByExt: byExt}
}

// merged lists the copy's located customers with changed applied.
func (c *nearbyCopy) merged(changed map[int64]changedCustomer) []cachedCustomer {
	out := make([]cachedCustomer, 0, len(c.rows)+len(changed))
	for _, r := range c.rows {
		if _, ok := changed[r.ID]; !ok {
			out = append(out, r)
		}
	}
	for _, ch := range changed {
		if ch.located {
			out = append(out, ch.cachedCustomer)
		}
	}
	return out
}

// stampedCustomer is a customer row as readChanges reads it.
type stampedCustomer struct {
	cachedCustomer
	HasLocation bool
}

// nearbyCache holds the copies of the tenants searched lately.
type nearbyCache struct {
	db      *gorm.DB
	dialect string
	limit   int // customers held across tenants; 0: no copies
	log     *slog.Logger

	mu      sync.Mutex
	tenants map[string]*tenantCopy
}

// tenantCopy is one tenant's entry: the published copy (nil while it loads,
// or when the tenant is too large to hold), and a lock that lets one request
// at a time move it forward.
type tenantCopy struct {
	cur     atomic.Pointer[nearbyCopy]
	refresh sync.Mutex
	used    atomic.Int64 // unix nanoseconds of the last search
	// retryAt, for a tenant found too large, is when to count again.
	retryAt time.Time
}

func newNearbyCache(s *store.Store, limit int, log *slog.Logger) *nearbyCache {
	return &nearbyCache{db: s.DB, dialect: s.Dialect, limit: limit, log: log, tenants: map[string]*tenantCopy{}}
}

// get returns the tenant's entry and its copy; a nil copy means: answer
// from the database (the copy is loading, or the tenant is too large). The
// first search of a tenant starts loading its copy in the background.
func (nc *nearbyCache) get(tenantID string) (*tenantCopy, *nearbyCopy) {
	now := time.Now()
	if nc == nil || nc.limit <= 0 {
		return nil, nil
	}
	nc.mu.Lock()
	e := nc.tenants[tenantID]
	start := false
	if e == nil || (e.cur.Load() == nil && !e.retryAt.IsZero() && now.After(e.retryAt)) {
		e = &tenantCopy{}
		nc.tenants[tenantID] = e
		start = true
	}
	nc.mu.Unlock()
	e.used.Store(now.UnixNano())
	if start {
		go nc.load(tenantID, e)
	}
	return e, e.cur.Load()
}

// load reads the tenant's located customers and publishes the copy, then
// drops the least recently searched tenants beyond the limit.
func (nc *nearbyCache) load(tenantID string, e *tenantCopy) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db := nc.db.WithContext(ctx)
	forget := func() {
		nc.mu.Lock()
		if nc.tenants[tenantID] == e {
			delete(nc.tenants, tenantID)
		}
		nc.mu.Unlock()
	}
	var n int64
	if err := db.Raw(`SELECT COUNT(*) FROM customers WHERE tenant_id = ? AND lat IS NOT NULL AND lon IS NOT NULL`,
		tenantID).Scan(&n).Error; err != nil {
		nc.log.Warn("nearby search: count customers", "tenant_id", tenantID, "err", err)
		forget()
		return
	}
	if n > int64(nc.limit) {
		nc.mu.Lock()
		e.retryAt = time.Now().Add(10 * time.Minute)
		nc.mu.Unlock()
		return
	}
	e.refresh.Lock()
	at, rows, err := readChanges(db, nc.dialect, tenantID, nil)
	if err == nil {
		e.cur.Store(newNearbyCopy(at, locatedOnly(rows)))
	}
	e.refresh.Unlock()
	if err != nil {
		nc.log.Warn("nearby search: load customers", "tenant_id", tenantID, "err", err)
		forget()
		return
	}
	nc.evict(tenantID)
}

// evict drops the least recently searched copies until the copies hold no
// more than the limit; keep is the one just loaded.
func (nc *nearbyCache) evict(keep string) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	for {
		held, oldest, oldestUsed := 0, "", int64(0) // held as in held(), under the lock already taken
		for id, e := range nc.tenants {
			c := e.cur.Load()
			if c == nil {
				continue
			}
			held += c.size()
			if u := e.used.Load(); id != keep && (oldest == "" || u < oldestUsed) {
				oldest, oldestUsed = id, u
			}
		}
		if held <= nc.limit || oldest == "" {
			return
		}
		delete(nc.tenants, oldest)
	}
}

// held counts the customers the copies hold.
func (nc *nearbyCache) held() int {
	if nc == nil {
		return 0
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	n := 0
	for _, e := range nc.tenants {
		if c := e.cur.Load(); c != nil {
			n += c.size()
		}
	}
	return n
}

// advance moves the entry's copy forward to counter value version at least.
func (nc *nearbyCache) advance(db *gorm.DB, tenantID string, e *tenantCopy, version int64) (*nearbyCopy, error) {
	e.refresh.Lock()
	defer e.refresh.Unlock()
	cur := e.cur.Load()
	if cur.at.version >= version {
		return cur, nil // another search moved it meanwhile
	}
	at, rows, err := readChanges(db, nc.dialect, tenantID, &cur.at)
	if err != nil {
		return nil, err
	}
	next := cur.advance(at, rows)
	e.cur.Store(next)
	return next, nil
}

func locatedOnly(rows []stampedCustomer) []cachedCustomer {
	out := make([]cachedCustomer, 0, len(rows))
	for _, r := range rows {
		if r.HasLocation {
			out = append(out, r.cachedCustomer)
		}
	}
	return out
}

// cursor says which rows a copy has seen: the tenant's change counter it
// was read at and, on PostgreSQL, the snapshot it was read in (the rows'
// nearby_xid tells which transaction last changed them); SQLite stamps rows
// with the counter itself.
type cursor struct {
	version  int64
	snapshot string
}

// readChanges reads, in one statement (one snapshot), the tenant's counter
// and the customers changed since a cursor (nil: all of them), so that the
// copy moved forward by them is exactly the database as of that counter.
// The first row carries the counter alone.
func readChanges(db *gorm.DB, dialect, tenantID string, since *cursor) (cursor, []stampedCustomer, error) {
	counter := `SELECT COALESCE((SELECT version FROM customer_versions WHERE tenant_id = ?), 0) AS version, '' AS snap`
	if dialect == store.Postgres {
		counter = `SELECT COALESCE((SELECT version FROM customer_versions WHERE tenant_id = ?), 0) AS version,
			pg_current_snapshot()::text AS snap`
	}
	changed, args := "", []any{tenantID, tenantID}
	switch {
	case since == nil:
	case dialect == store.Postgres:
		changed = ` AND c.nearby_xid >= pg_snapshot_xmin(CAST(? AS pg_snapshot))
			AND NOT pg_visible_in_snapshot(c.nearby_xid, CAST(? AS pg_snapshot))`
		args = append(args, since.snapshot, since.snapshot)
	default:
		changed = ` AND c.nearby_version > ?`
		args = append(args, since.version)
	}
	rows, err := db.Raw(`SELECT v.version, v.snap, c.id, c.external_id, c.name, c.address, c.lat, c.lon, c.consent_same_day
		FROM (`+counter+`) v LEFT JOIN customers c ON c.tenant_id = ?`+changed, args...).Rows()
	if err != nil {
		return cursor{}, nil, fmt.Errorf("read customers for the nearby search: %w", err)
	}
	defer rows.Close()
	var at cursor
	var out []stampedCustomer
	for rows.Next() {
		var (
			id                 *int64
			ext, name, address *string
			lat, lon           *float64
			consent            *bool
		)
		if err := rows.Scan(&at.version, &at.snapshot, &id, &ext, &name, &address, &lat, &lon, &consent); err != nil {
			return cursor{}, nil, fmt.Errorf("read customers for the nearby search: %w", err)
		}
		if id == nil {
			continue // nothing changed since: the counter alone
		}
		r := stampedCustomer{cachedCustomer: cachedCustomer{ID: *id, ExternalID: *ext, Name: *name,
			Address: *address, ConsentSameDay: consent != nil && *consent}}
		if lat != nil && lon != nil {
			r.Lat, r.Lon, r.HasLocation = *lat, *lon, true
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return cursor{}, nil, fmt.Errorf("read customers for the nearby search: %w", err)
	}
	return at, out, nil
}
