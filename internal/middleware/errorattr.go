package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrorAttr formats err for a log line as the group "error", with "types", the dynamic
// types along its wrap chain, and either:
//   - for a Postgres error anywhere in the chain: "sqlstate" and the names of the schema,
//     table, column and constraint involved. Never its Message, Detail or Where, nor the
//     text of errors wrapping it: Postgres quotes row values there ("Key (document_hash)=(…)
//     already exists", `invalid input syntax for type uuid: "…"`);
//   - otherwise "message", err.Error(). This is safe only because Passage code never formats
//     personal data into an error: identify things by their ids, never by their contents.
//
// Use it wherever an error is logged, not only in this package.
func ErrorAttr(err error) slog.Attr {
	if err == nil {
		return slog.Attr{}
	}
	types := slog.String("types", errorTypes(err))
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return slog.Group("error", types,
			slog.String("sqlstate", pgErr.Code),
			slog.String("schema", pgErr.SchemaName),
			slog.String("table", pgErr.TableName),
			slog.String("column", pgErr.ColumnName),
			slog.String("constraint", pgErr.ConstraintName),
		)
	}
	return slog.Group("error", types, slog.String("message", err.Error()))
}

// errorTypes renders the types along err's wrap chain, e.g.
// "*fmt.wrapError > *pgconn.PgError", with joined errors in brackets.
func errorTypes(err error) string {
	var b strings.Builder
	writeErrorTypes(&b, err)
	return b.String()
}

func writeErrorTypes(b *strings.Builder, err error) {
	fmt.Fprintf(b, "%T", err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			b.WriteString(" > ")
			writeErrorTypes(b, inner)
		}
	case interface{ Unwrap() []error }:
		b.WriteString(" > [")
		for i, inner := range u.Unwrap() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeErrorTypes(b, inner)
		}
		b.WriteString("]")
	}
}
