package sqlstore

import (
	"context"
	"database/sql"
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

// rowsInsert is a multi-row INSERT: prefix, then "(?, ...)" for each row, then suffix.
type rowsInsert struct {
	prefix  string
	columns int
	suffix  string
}

// maxParams bounds the parameters of one statement: the smallest limit of the databases custody runs
// on (SQLite built with its historical default, 999).
const maxParams = 999

// insertRows inserts rows in as few statements as maxParams allows.
func (s *DB) insertRows(ctx context.Context, tx *sql.Tx, ins rowsInsert, rows [][]any) error {
	per := maxParams / ins.columns
	one := "(?" + strings.Repeat(", ?", ins.columns-1) + ")"
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString(ins.prefix)
		args := make([]any, 0, ins.columns*len(part))
		for i, r := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		b.WriteString(ins.suffix)
		if _, err := tx.ExecContext(ctx, s.d.Rebind(b.String()), args...); err != nil {
			return err
		}
	}
	return nil
}
