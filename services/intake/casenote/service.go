package casenote

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/vault"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.casenote.v1.CaseNoteService"

// producer names the service in the outbox: intake's, whose role writes the events.
const producer = "intake"

// Policy lists who may call each RPC: the field staff; which notes of which case each may
// read or write, intake's access rules and the notes' sensitivity decide.
func Policy() auth.Policy {
	field := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}
	return auth.Policy{
		casenotev1.CaseNoteService_AddCaseNote_FullMethodName:   field,
		casenotev1.CaseNoteService_EditCaseNote_FullMethodName:  field,
		casenotev1.CaseNoteService_GetCaseNote_FullMethodName:   field,
		casenotev1.CaseNoteService_ListCaseNotes_FullMethodName: field,
	}
}

// Access is a caller's standing on a case, as intake decides it (Cases.NoteAccess).
type Access struct {
	// Case is the case with its members and consent history (consent.Derive ran).
	Case *intakev1.Case
	// Mission is the caller's mission, whose notes on the case the caller reads and writes.
	Mission string
	// Handover is the hand-over the case is shared with the caller's mission through, or
	// uuid.Nil for a case of the caller's own mission.
	Handover uuid.UUID
	// WorksOn: the caller registered the case, or is assigned to it in their mission;
	// Assigned: the latter. Grant: the caller holds a live break-glass grant on it.
	WorksOn, Assigned, Grant bool
}

// Cases is what the service asks intake about a case.
type Cases interface {
	// NoteAccess reads, in tx (declared for who's mission), case id as who's mission sees it
	// and who's access to it. The mission's own case is locked FOR SHARE until tx ends, so
	// that no change of the case (a consent withdrawn) falls between the decision and the
	// note. A case of another mission is database.ErrNotFound unless it is shared with who's
	// mission by a hand-over in force whose profile allows identity. With a purpose other
	// than unspecified, NoteAccess refuses (PERMISSION_DENIED) a caller intake would not let
	// read the case's identity for that purpose.
	NoteAccess(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID, purpose commonv1.AccessPurpose) (Access, error)
	// AwaitShare runs attempt, and once more after intake caught up with the hand-overs
	// accepted a moment ago when it found no case.
	AwaitShare(ctx context.Context, id uuid.UUID, attempt func() error) error
}

// Service implements casenotev1.CaseNoteServiceServer.
type Service struct {
	casenotev1.UnimplementedCaseNoteServiceServer

	db    *database.DB
	keys  *vault.Keyring
	cases Cases
	now   func() time.Time
	// adds runs AddCaseNote on the case; edits runs EditCaseNote on the note.
	adds  mutation.Kind[Access]
	edits mutation.Kind[*lockedNote]
}

// New returns the service over a pool connected as intake's role, the vault's keyring,
// intake's cases and the clock (time.Now when nil).
func New(pool *pgxpool.Pool, keys *vault.Keyring, cases Cases, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{db: database.NewDB(pool), keys: keys, cases: cases, now: now}
	idem := idempotency.NewStore("intake.idempotency", "idempotency_pkey")
	s.adds = mutation.Kind[Access]{
		DB: s.db, Idem: idem, Producer: producer, Clock: s.clock, Parse: parseCaseID,
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (Access, error) {
			return cases.NoteAccess(ctx, tx, who, id, commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED)
		},
		Mission: func(a Access) string { return a.Mission },
		Await:   cases.AwaitShare,
	}
	s.edits = s.editKind(idem)
	return s
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	casenotev1.RegisterCaseNoteServiceServer(g, s)
}

// clock returns now as Postgres keeps it, so that the times a call returns are the times a
// later read returns.
func (s *Service) clock() time.Time {
	return database.Timestamp(s.now())
}
