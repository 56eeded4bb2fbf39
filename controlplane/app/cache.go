package app

import "sync"

// maxCached bounds each cache; past it the cache starts over.
const maxCached = 1024

// cache keeps values derived from immutable records (a contract revision's parsed body, a trusted
// key's verifier) by the record's key, so hot paths (every init and push) do not redo the work. An
// entry never goes stale because its record never changes. Callers must not modify cached values.
type cache[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

// get returns the value for key, making it with make on a miss; errors are not cached.
func (c *cache[V]) get(key string, make func() (V, error)) (V, error) {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := make()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = map[string]V{}
	}
	c.m[key] = v
	c.mu.Unlock()
	return v, nil
}
