package tenant

import (
	"sync"
	"time"
)

// keyCache remembers resolved keys for a short time, so a busy integration
// does not pay a database round trip per request. A key revoked through this
// process stops at once; one revoked elsewhere (another replica, the CLI)
// stops within the TTL.
type keyCache struct {
	ttl     time.Duration
	mu      sync.RWMutex
	entries map[string]cachedKey // by key hash
}

type cachedKey struct {
	p       Principal
	expires time.Time
}

// maxCachedKeys bounds memory; past it the cache starts over.
const maxCachedKeys = 10_000

func (c *keyCache) get(hash string, now time.Time) (Principal, bool) {
	if c == nil || c.ttl <= 0 {
		return Principal{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[hash]
	c.mu.RUnlock()
	if !ok || now.After(e.expires) {
		return Principal{}, false
	}
	return e.p, true
}

func (c *keyCache) put(hash string, p Principal, now time.Time) {
	if c == nil || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	if len(c.entries) >= maxCachedKeys {
		c.entries = map[string]cachedKey{}
	}
	c.entries[hash] = cachedKey{p: p, expires: now.Add(c.ttl)}
	c.mu.Unlock()
}

// forgetKey drops the cached entry of one key id.
func (c *keyCache) forgetKey(keyID int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	for h, e := range c.entries {
		if e.p.KeyID == keyID {
			delete(c.entries, h)
		}
	}
	c.mu.Unlock()
}
