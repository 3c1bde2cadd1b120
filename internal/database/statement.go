package database

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Statement composes one SQL statement from the writes of several stores: each adds its part
// (an INSERT, say) under a name, and the parts become the data-modifying common table
// expressions of a single statement, the last part its main statement.
//
// A hot write path (RegisterCase writes eight tables) then costs Postgres one Bind, one
// Execute and one executor run instead of one per table, and the driver one message instead
// of eight. The parts still commit or fail as one, like the statements of a batch, with two
// differences their authors must mind: every part sees the database as it was when the
// statement began (a part reads another's rows only through its RETURNING, by name), and
// foreign keys and unique constraints are checked as of the end of the statement, so a row
// may refer to one another part inserts.
//
// Parts name their parameters with Arg, so that no store needs to know the others' numbering.
// What every change records through the shared stores (outbox events, audit records, first
// results: outbox.Add, audit.Add, idempotency.Store.Add) is added only this way: each store
// adds all its rows of a statement as one part, from a slice (one row is a slice of one), and
// a change whose other writes are queued on a pgx.Batch queues the composed statement there.
type Statement struct {
	names []string
	parts []string
	args  []any
}

// Arg adds v as the statement's next parameter and returns its placeholder ("$7").
func (s *Statement) Arg(v any) string {
	s.args = append(s.args, v)
	return "$" + strconv.Itoa(len(s.args))
}

// Add appends a part: sql, whose parameters come from Arg, under name, by which later parts
// may read the rows it returns (RETURNING). Names are constants of the stores and must be unique within a
// statement; a repeated name is a programming error and panics.
func (s *Statement) Add(name, sql string) {
	for _, n := range s.names {
		if n == name {
			panic(fmt.Sprintf("database: statement part %q added twice", name))
		}
	}
	s.names = append(s.names, name)
	s.parts = append(s.parts, sql)
}

// Has reports whether a part of that name was added.
func (s *Statement) Has(name string) bool {
	for _, n := range s.names {
		if n == name {
			return true
		}
	}
	return false
}

// SQL returns the composed statement: every part but the last as a common table expression,
// the last as the main statement. It is empty when no part was added.
func (s *Statement) SQL() string {
	if len(s.parts) == 0 {
		return ""
	}
	var b strings.Builder
	last := len(s.parts) - 1
	for i := range last {
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(",\n")
		}
		b.WriteString(s.names[i])
		b.WriteString(" AS (\n")
		b.WriteString(s.parts[i])
		b.WriteString("\n)")
	}
	if last > 0 {
		b.WriteString("\n")
	}
	b.WriteString(s.parts[last])
	return b.String()
}

// Args returns the parameters, in placeholder order.
func (s *Statement) Args() []any { return s.args }

// Queue adds the composed statement to b. A statement without parts queues nothing.
func (s *Statement) Queue(b *pgx.Batch) {
	if len(s.parts) == 0 {
		return
	}
	b.Queue(s.SQL(), s.args...)
}
