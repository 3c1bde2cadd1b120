package intake

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// GetCase reads a case of the caller's mission. With CASE_VIEW_FULL it decrypts the identity
// of every person in it, for a role allowed to see identity, a stated purpose, and a caller
// who works on the case or holds a live break-glass grant on it (see access.go). A case of
// another mission handed over to the caller's is read as the hand-over allows (share.go).
func (s *Service) GetCase(ctx context.Context, req *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	full := req.GetView() == intakev1.CaseView_CASE_VIEW_FULL
	if full && !slices.Contains(identityRoles, who.Role) {
		return nil, status.Errorf(codes.PermissionDenied, "view: role %s may not read identity", who.Role)
	}
	if full && req.GetPurpose() == commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED {
		return nil, purposeViolation()
	}
	id, err := parseCaseID(req.GetCaseId())
	if err != nil {
		return nil, err
	}
	if !full {
		c, err := getCase(ctx, s.db.Mission(who.Mission), s.missionFilter(who), id, false)
		if errors.Is(err, database.ErrNotFound) {
			return s.getSharedCase(ctx, who, id, req)
		}
		if err != nil {
			return nil, toStatus(err)
		}
		return &intakev1.GetCaseResponse{Case: c}, nil
	}
	var resp *intakev1.GetCaseResponse
	// One transaction: the access decision and the identity it allows are read from the same
	// snapshot, so an unassignment or an expiry cannot fall between them.
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		c, err := getCase(ctx, tx, s.missionFilter(who), id, false)
		if err != nil {
			return err
		}
		a, err := readAccess(ctx, tx, who, id, s.clock())
		if err != nil {
			return err
		}
		if err := checkIdentityAccess(a, req.GetPurpose()); err != nil {
			return err
		}
		// The read is recorded in the transaction that reads the identity, with its stated
		// purpose: if the record cannot be committed, no identity is returned.
		if err := audit.Write(ctx, tx, audit.For(audit.WithReason(ctx, req.GetPurpose().String()), who, c.Mission, id)); err != nil {
			return err
		}
		resp = &intakev1.GetCaseResponse{Case: c}
		resp.Identity, err = s.identity(ctx, tx, c)
		return err
	})
	if errors.Is(err, database.ErrNotFound) {
		return s.getSharedCase(ctx, who, id, req)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// identity opens the vault rows of a case's people, and reads the erasures of those who have
// none, through q: declared for the case's mission, or for a mission it is shared with.
func (s *Service) identity(ctx context.Context, q database.Querier, c *intakev1.Case) (*intakev1.CaseIdentity, error) {
	members := append([]*intakev1.CaseMember{c.Principal}, c.HouseholdMembers...)
	ids := make([]uuid.UUID, len(members))
	for i, m := range members {
		ids[i] = uuid.MustParse(m.SubjectId)
	}
	sealed, err := vault.Get(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	var erased map[uuid.UUID]vault.Erasure
	if len(sealed) < len(ids) {
		if erased, err = vault.Erasures(ctx, q, c.Mission, ids); err != nil {
			return nil, err
		}
	}
	out := &intakev1.CaseIdentity{}
	for i, id := range ids {
		pi := &intakev1.PersonIdentity{SubjectId: id.String()}
		if sl, ok := sealed[id]; ok {
			if pi.Person, err = s.keys.Open(id, sl); err != nil {
				return nil, fmt.Errorf("open identity: %w", err)
			}
		} else if e, ok := erased[id]; ok {
			pi.Erasure = erasureToProto(e)
		} else {
			return nil, errNotErased
		}
		if i == 0 {
			out.Principal = pi
		} else {
			out.HouseholdMembers = append(out.HouseholdMembers, pi)
		}
	}
	return out, nil
}

// parseCaseID parses a case id that protovalidate already checked; the check here keeps a
// handler safe should it ever be called without the validation stage.
func parseCaseID(s string) (uuid.UUID, error) { return rpcerr.ParseID("case_id", s) }
