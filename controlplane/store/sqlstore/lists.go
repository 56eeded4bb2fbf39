package sqlstore

import (
	"strings"

	"github.com/custody-dev/custody/controlplane/store"
)

// conditions builds the WHERE clause of a list: filters that are set, and the keyset position.
type conditions struct {
	terms []string
	args  []any
}

// equal adds "column = value" when value is set.
func (c *conditions) equal(column, value string) {
	if value != "" {
		c.add(column+" = ?", value)
	}
}

func (c *conditions) add(term string, args ...any) {
	c.terms, c.args = append(c.terms, term), append(c.args, args...)
}

// after adds the keyset condition of a list ordered by (created, key) descending: the rows after p.
// A row value comparison is one range of an index ending in (created, key), on both databases.
func (c *conditions) after(created, key string, p *store.Position) {
	if p != nil {
		c.add("("+created+", "+key+") < (?, ?)", micros(p.CreatedAt), p.Key)
	}
}

func (c *conditions) where() string {
	if len(c.terms) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.terms, " AND ")
}
