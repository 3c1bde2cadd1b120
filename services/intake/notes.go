package intake

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	"github.com/passage-cm/passage/services/intake/casenote"
)

// Case notes (services/intake/casenote) are identity-grade, so intake decides who reads and
// writes them, as it decides who reads identity: NoteAccess is casenote.Cases.

// NoteAccess reads case id as who's mission sees it and who's access to it, inside tx
// (declared for who's mission): the mission's own case, locked FOR SHARE (lockCase), or a case
// shared with the mission by a hand-over whose sharing is in force (its DATA_SHARING consent or
// legal basis, as GetCase checks it) and whose profile allows an identity field: a note is
// sealed with, and opened by, the person's data key, which only such a share lets the receiver
// read. With a purpose, it refuses a caller who may not read the case's identity for it
// (checkIdentityAccess).
func (s *Service) NoteAccess(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID, purpose commonv1.AccessPurpose) (casenote.Access, error) {
	lc, err := lockCase(ctx, tx, who.Mission, id)
	if err != nil {
		return casenote.Access{}, err
	}
	c, err := getCase(ctx, tx, "", id, false)
	if err != nil {
		return casenote.Access{}, err
	}
	if lc.handover != uuid.Nil {
		shares, err := liveShares(ctx, tx, who.Mission, id)
		if err != nil {
			return casenote.Access{}, err
		}
		sh, err := inForce(c, shares)
		if err != nil {
			return casenote.Access{}, err
		}
		if !allowsIdentity(sh.fields) {
			return casenote.Access{}, status.Error(codes.PermissionDenied,
				"case_id: the hand-over's data profile allows no identity field, and a note is identity")
		}
		lc.handover = sh.handoverID
	}
	a, err := readAccess(ctx, tx, who, id, s.clock())
	if err != nil {
		return casenote.Access{}, err
	}
	if purpose != commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED {
		if err := checkIdentityAccess(a, purpose); err != nil {
			return casenote.Access{}, err
		}
	}
	return casenote.Access{Case: c, Mission: who.Mission, Handover: lc.handover,
		WorksOn: a.worksOn, Assigned: a.assigned, Grant: a.grant}, nil
}

// AwaitShare runs attempt, and once more after the hand-over consumer caught up when it found
// no case (awaitShare).
func (s *Service) AwaitShare(ctx context.Context, id uuid.UUID, attempt func() error) error {
	return s.awaitShare(ctx, id, attempt)
}
