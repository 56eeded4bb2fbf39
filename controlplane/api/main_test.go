package api_test

import (
	"os"
	"testing"

	"github.com/custody-dev/custody/internal/pgtest"
)

// TestMain stops the PostgreSQL server the tests on both stores may start.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
