package sqlite

import "time"

// Option configures Open.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock sets the clock for times a caller leaves zero (and for schema_migrations); the default is
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}
