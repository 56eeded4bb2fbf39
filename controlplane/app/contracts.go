package app

import (
	"sync"

	"github.com/custody-dev/custody/contract"
)

// maxCachedContracts bounds the parsed-contract cache; past it the cache starts over.
const maxCachedContracts = 1024

// contractCache keeps parsed contract revisions by the digest of their body. Revisions are
// immutable, so an entry never goes stale; every init and push needs one, and parsing YAML is
// among the costliest steps of a push. Callers must not modify the contracts it returns.
type contractCache struct {
	mu sync.Mutex
	m  map[string]*contract.Contract
}

func (c *contractCache) parse(digest string, body []byte) (*contract.Contract, error) {
	c.mu.Lock()
	parsed, ok := c.m[digest]
	c.mu.Unlock()
	if ok {
		return parsed, nil
	}
	parsed, err := contract.Parse(body)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedContracts {
		c.m = map[string]*contract.Contract{}
	}
	c.m[digest] = parsed
	c.mu.Unlock()
	return parsed, nil
}
