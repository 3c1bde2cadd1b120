package staff

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
	"github.com/passage-cm/passage/internal/staffdir"
	"github.com/passage-cm/passage/internal/vault"
	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.staff.v1.StaffService"

// producer names the service in the outbox: intake's, whose role writes the directory.
const producer = "intake"

// Policy lists who may call each RPC: supervisors read their own mission's team and
// administrators any mission's; administrators alone change the directory.
func Policy() auth.Policy {
	read := []auth.Role{auth.RoleSupervisor, auth.RoleAdmin}
	admin := []auth.Role{auth.RoleAdmin}
	return auth.Policy{
		staffv1.StaffService_ListStaff_FullMethodName:       read,
		staffv1.StaffService_GetStaff_FullMethodName:        read,
		staffv1.StaffService_ProvisionStaff_FullMethodName:  admin,
		staffv1.StaffService_DeactivateStaff_FullMethodName: admin,
		staffv1.StaffService_ReactivateStaff_FullMethodName: admin,
	}
}

// Assignments is what the service asks intake when a member leaves.
type Assignments interface {
	// LockAssignments takes, in tx (declared for mission), the assignment lock of every case
	// of mission staffID is assigned to, before the deactivation writes anything.
	LockAssignments(ctx context.Context, tx pgx.Tx, mission, staffID string) error
	// EndAssignments unassigns staffID from every case of mission they are assigned to,
	// inside tx (declared for mission), each as UnassignCase would: the case's assignment
	// lock, its CaseAssignmentChanged event and its audit record by who, queued on b. It
	// returns how many cases it unassigned.
	EndAssignments(ctx context.Context, tx pgx.Tx, b *pgx.Batch, who auth.Claims, mission, staffID string) (int, error)
}

// Service implements staffv1.StaffServiceServer.
type Service struct {
	staffv1.UnimplementedStaffServiceServer

	db          *database.DB
	keys        *vault.Keyring
	assignments Assignments
	// directory, when set, is this process's copy of the directory, which a change waits for.
	directory *staffdir.Directory
	now       func() time.Time
	// members runs every change of an existing member (a deactivation locks the member's
	// cases first: DeactivateStaff); creator adds one.
	members mutation.Kind[*member]
	creator mutation.Creator
}

// New returns the service over a pool connected as intake's role, the vault's keyring (for
// idempotency keys), intake's assignments, the process's copy of the directory (nil for none)
// and the clock (time.Now when nil).
func New(pool *pgxpool.Pool, keys *vault.Keyring, assignments Assignments, directory *staffdir.Directory, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{db: database.NewDB(pool), keys: keys, assignments: assignments, directory: directory, now: now}
	idem := idempotency.NewStore("intake.idempotency", "idempotency_pkey")
	s.creator = mutation.Creator{DB: s.db, Idem: idem, Producer: producer}
	s.members = mutation.Kind[*member]{
		DB: s.db, Idem: idem, Producer: producer, Clock: s.clock,
		// The ref is the staff id (the request's validation bounds it).
		Parse:   func(ref string) (uuid.UUID, error) { return staffdir.MemberID(ref), nil },
		Lock:    lockMember,
		Version: func(m *member) int64 { return m.Version },
		Mission: func(m *member) string { return m.Mission },
		Stale: func(ref string, m *member) error {
			return staleVersion(ref, m.Version)
		},
		Save: saveMember,
	}
	return s
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	staffv1.RegisterStaffServiceServer(g, s)
}

// clock returns now as Postgres keeps it.
func (s *Service) clock() time.Time {
	return database.Timestamp(s.now())
}

// settleWait bounds how long a change waits for this process's copy of the directory.
const settleWait = 2 * time.Second

// settled waits until this process's copy of the directory holds m's change, so that the
// answer to a deactivation means its own process already refuses the member. The change is
// committed either way: a copy slower than settleWait (a lost connection, which refuses every
// staff call until it reads the directory again) does not fail the call.
func (s *Service) settled(ctx context.Context, m *staffv1.StaffMember) {
	if s.directory == nil || m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, settleWait)
	defer cancel()
	_ = s.directory.Await(ctx, m.GetStaffId(), m.GetVersion())
}
