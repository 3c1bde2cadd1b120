package database

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// registerUUID teaches conn's type map to send a google/uuid UUID as the 16 bytes it is.
//
// Without it pgx finds uuid.UUID's driver.Valuer, formats the id as 36 characters of text,
// plans the encoding of that string afresh and parses it back into bytes, for every id of
// every statement and every element of a uuid[] (a registration sends two dozen): 2 % of the
// server's CPU under load, with the garbage that goes with it.
func registerUUID(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUIDEncodePlan}, m.TryWrapEncodePlanFuncs...)
	return nil
}

func tryWrapUUIDEncodePlan(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	if _, ok := value.(uuid.UUID); ok {
		return &uuidEncodePlan{}, pgtype.UUID{Valid: true}, true
	}
	return nil, nil, false
}

// uuidEncodePlan hands a uuid.UUID to the next plan (pgtype's own UUID codec) as a pgtype.UUID.
type uuidEncodePlan struct{ next pgtype.EncodePlan }

func (p *uuidEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgtype.UUID{Bytes: value.(uuid.UUID), Valid: true}, buf)
}
