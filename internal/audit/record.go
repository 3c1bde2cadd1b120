package audit

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/middleware"
)

// Entry is one audited call: who, in which role and mission, called what, about which
// aggregate, why, under which request id. It holds no personal data by construction: every
// field is a pseudonymous id, a random id or a code.
type Entry struct {
	// Mission owns the data the call touched; the record joins that mission's chain.
	Mission string
	// Actor, Role and CallerMission are the verified caller (Actor is the token's
	// pseudonymous staff subject).
	Actor         string
	Role          string
	CallerMission string
	// Method is the full gRPC method, e.g. "/passage.intake.v1.IntakeService/GetCase".
	Method string
	// AggregateID is the case, request or fund the call was about (uuid.Nil when none).
	AggregateID uuid.UUID
	// Reason is the coded reason the request states (a closure reason's enum name), a coded
	// outcome the service records (a registration's duplicate check: counts, no ids), or "".
	// Never free text: a free-text field could hold a name.
	Reason string
	// RequestID is the RPC's request id (as in its log lines); ClientRequestID the
	// idempotency key of a mutation (uuid.Nil for a read).
	RequestID       string
	ClientRequestID uuid.UUID
}

// For returns the entry of the call ctx belongs to, by caller who, about aggregate in
// mission. The method is the one gRPC is serving (never a name a handler passes, which
// could drift), and the request id and any reason set with WithReason come from ctx.
func For(ctx context.Context, who auth.Claims, mission string, aggregate uuid.UUID) Entry {
	method, _ := grpc.Method(ctx)
	return Entry{
		Mission:       mission,
		Actor:         who.Subject,
		Role:          string(who.Role),
		CallerMission: who.Mission,
		Method:        method,
		AggregateID:   aggregate,
		Reason:        reasonFrom(ctx),
		RequestID:     middleware.RequestID(ctx),
	}
}

// WithClientRequest returns e with the mutation's idempotency key.
func (e Entry) WithClientRequest(id uuid.UUID) Entry {
	e.ClientRequestID = id
	return e
}

type reasonKey struct{}

// WithReason returns ctx carrying the coded reason the request states, for the entry that
// the call's write path builds with For. A handler sets it where its request has a reason,
// so the shared write path of a service need not know every request's fields.
func WithReason(ctx context.Context, code string) context.Context {
	return context.WithValue(ctx, reasonKey{}, code)
}

func reasonFrom(ctx context.Context) string {
	r, _ := ctx.Value(reasonKey{}).(string)
	return r
}

// Add adds the inserts of entries' records to st as its part "audit_record", so that they
// commit or roll back with the change they record; one record is a slice of one. It is how a
// change writes its records: a statement holds one such part, so every record of a statement
// goes in one call (a group commit's, say). Add them beside the idempotency record
// (idempotency.Store.Add): a replayed retry then writes neither. The records take their ids in
// the order given, which is their order in their missions' chains (the chainer links by
// transaction, then record id).
//
// Each insert is checked by audit.record's row-level security against the mission the
// transaction declared (passage.mission): the record's own mission, or HQ, whose calls touch
// missions' data (see migrations/000008_audit.up.sql).
func Add(st *database.Statement, entries []Entry) {
	n := len(entries)
	missions, actors, roles, callers := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	methods, reasons, requests := make([]string, n), make([]string, n), make([]string, n)
	aggregates, clientRequests := make([]*uuid.UUID, n), make([]*uuid.UUID, n)
	for i, e := range entries {
		missions[i], actors[i], roles[i], callers[i] = e.Mission, e.Actor, e.Role, e.CallerMission
		methods[i], reasons[i], requests[i] = e.Method, e.Reason, e.RequestID
		aggregates[i], clientRequests[i] = nullUUID(e.AggregateID), nullUUID(e.ClientRequestID)
	}
	st.Add("audit_record", `INSERT INTO audit.record
  (mission, actor, role, caller_mission, method, aggregate_id, reason, request_id, client_request_id)
SELECT m, a, r, c, f, g, w, q, k FROM unnest(`+st.Arg(missions)+`::text[], `+st.Arg(actors)+`::text[], `+st.Arg(roles)+`::text[], `+
		st.Arg(callers)+`::text[], `+st.Arg(methods)+`::text[], `+st.Arg(aggregates)+`::uuid[], `+st.Arg(reasons)+`::text[], `+
		st.Arg(requests)+`::text[], `+st.Arg(clientRequests)+`::uuid[]) WITH ORDINALITY AS t(m, a, r, c, f, g, w, q, k, n)
ORDER BY n`)
}

// Write sends e's record through q at once, on its own, and returns once Postgres has taken
// it: the job of a record that must be in before the caller goes on and that no statement of
// the caller's carries. Reads of identity call it before decrypting, in the transaction that
// reads (if the record cannot be written, nothing is returned); through a Querier outside a
// transaction the record commits by itself (one batch, one implicit transaction). A change
// adds its records to its own statement instead (Add), to commit or roll back with it. More
// entries (a list's reads, one per case) go in the same statement.
func Write(ctx context.Context, q database.Querier, e Entry, more ...Entry) error {
	var st database.Statement
	Add(&st, append([]Entry{e}, more...))
	b := &pgx.Batch{}
	st.Queue(b)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("audit: write record: %w", err)
	}
	return nil
}

func nullUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
