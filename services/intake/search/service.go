package search

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/vault"
	searchv1 "github.com/passage-cm/passage/proto/gen/passage/search/v1"
)

// Name is the service's full protobuf name.
const Name = "passage.search.v1.PersonSearchService"

// Policy lists who may search: the field staff of a mission, who meet the person at the
// counter, in their mission; its supervisors alone in other missions. HQ roles and partners
// may not.
func Policy() auth.Policy {
	return auth.Policy{
		searchv1.PersonSearchService_SearchPersons_FullMethodName: identityRoles,
		// Across missions: supervisors, who decide whether to ask another mission for a
		// hand-over or a referral. A caseworker asks their supervisor.
		searchv1.PersonSearchService_FindElsewhere_FullMethodName: {auth.RoleSupervisor},
	}
}

// identityRoles may search, and read the identity of the matches on the cases they work on
// (or hold a break-glass grant for): the roles intake lets read identity.
var identityRoles = []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}

// maxMatches bounds a response: a criterion matching more cases than this is too loose to
// help at the counter, and the caller is told to narrow it (truncated).
const maxMatches = 50

// Service implements searchv1.PersonSearchServiceServer.
type Service struct {
	searchv1.UnimplementedPersonSearchServiceServer

	db   *database.DB
	keys *vault.Keyring
	now  func() time.Time
}

// New returns the service over a pool connected as intake's role, with the vault's keyring
// and the clock that decides whether a break-glass grant is live and a date in the future.
func New(pool *pgxpool.Pool, keys *vault.Keyring, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: database.NewDB(pool), keys: keys, now: now}
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	searchv1.RegisterPersonSearchServiceServer(g, s)
}
