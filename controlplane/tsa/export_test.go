package tsa

import "crypto"

// KeyForTest is the authority's key, for tests that pair it with another chain.
func KeyForTest(a *Authority) crypto.Signer { return a.key }
