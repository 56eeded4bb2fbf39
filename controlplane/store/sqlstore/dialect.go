package sqlstore

import "strconv"

// Placeholders is how a driver spells bind parameters.
type Placeholders int

const (
	// Question is SQLite's (and the SQL standard's) "?".
	Question Placeholders = iota
	// Dollar is PostgreSQL's "$1", "$2", ...
	Dollar
)

// Dialect is what differs between the databases; everything else (the SQL of every query and of the
// migrations) is written once, with "?" placeholders.
type Dialect struct {
	// Name names the database in errors ("sqlite", "postgres").
	Name string
	// Placeholders is the bind parameter style queries are rewritten to.
	Placeholders Placeholders
	// Classify maps a driver error to store.ErrExists (a unique violation) or store.ErrNotFound (a
	// foreign key naming a missing row), or returns nil for any other error.
	Classify func(error) error
	// MigrationLock, if set, is run first in the migration transaction, to serialize the migrations of
	// several processes starting at once (PostgreSQL: an advisory lock). SQLite needs none: its write
	// transactions start with BEGIN IMMEDIATE.
	MigrationLock string
}

// Rebind rewrites the "?" placeholders of query to the dialect's style. A "?" inside a quoted string, a
// quoted identifier or a comment is left alone.
func (d Dialect) Rebind(query string) string {
	if d.Placeholders == Question {
		return query
	}
	return rebindDollar(query)
}

// rebindDollar rewrites each "?" outside quotes and comments to $1, $2, ... in order.
func rebindDollar(query string) string {
	out := make([]byte, 0, len(query)+16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := skipQuoted(query, i, c)
			out = append(out, query[i:end]...)
			i = end - 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			end := len(query)
			for j := i; j < len(query); j++ {
				if query[j] == '\n' {
					end = j
					break
				}
			}
			out = append(out, query[i:end]...)
			i = end - 1
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			end := len(query)
			for j := i + 2; j+1 < len(query); j++ {
				if query[j] == '*' && query[j+1] == '/' {
					end = j + 2
					break
				}
			}
			out = append(out, query[i:end]...)
			i = end - 1
		case c == '?':
			n++
			out = append(out, '$')
			out = strconv.AppendInt(out, int64(n), 10)
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// skipQuoted returns the index just past the quoted run starting at query[start] (a doubled quote
// inside is an escaped quote), or len(query) if it never closes.
func skipQuoted(query string, start int, q byte) int {
	for j := start + 1; j < len(query); j++ {
		if query[j] != q {
			continue
		}
		if j+1 < len(query) && query[j+1] == q {
			j++
			continue
		}
		return j + 1
	}
	return len(query)
}
