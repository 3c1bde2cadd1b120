package intake

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// A case handed over to another mission is shared with it: the receiving mission of a live
// hand-over (ACCEPTED or COMPLETED) reads the case through intake, with only the fields the
// hand-over's data profile allows, and assigns its own caseworkers to it. The case, and each
// person's identity, stay one row, the owner's: nothing is copied, so an erasure reaches the
// receiver's view at once. The sharing rests on the consent record the hand-over names, checked
// at every read against intake's own consent records (a withdrawal by the owner ends it on both
// sides at once), or on the legal basis it names instead.

// share is a live hand-over of a case to the caller's mission, as intake.case_share keeps it,
// with the fields its profile version allows.
type share struct {
	handoverID uuid.UUID
	consentID  *uuid.UUID
	legalBasis *string
	fields     []handoverv1.HandoverField
}

// liveShares reads the live shares of case id with mission, newest first: those of a case
// the sending mission owns, by a profile intake holds (any other grants nothing).
func liveShares(ctx context.Context, q database.Querier, mission string, id uuid.UUID) ([]share, error) {
	rows, err := q.Query(ctx, `SELECT s.handover_id, s.consent_id, s.legal_basis, p.fields
FROM intake.case_share s JOIN intake.handover_profile p ON p.programme = s.programme AND p.version = s.profile_version
WHERE s.case_id = $1 AND s.mission = $2 AND s.status IN ('ACCEPTED', 'COMPLETED')
  AND EXISTS (SELECT FROM intake."case" c WHERE c.case_id = s.case_id AND c.mission = s.from_mission)
ORDER BY s.accepted_at DESC, s.handover_id`, id, mission)
	if err != nil {
		return nil, fmt.Errorf("read shares: %w", err)
	}
	var out []share
	var sh share
	var fields []string
	_, err = pgx.ForEachRow(rows, []any{&sh.handoverID, &sh.consentID, &sh.legalBasis, &fields}, func() error {
		sh.fields = enumcode.Values[handoverv1.HandoverField](fields)
		out = append(out, sh)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read shares: %w", err)
	}
	return out, nil
}

// inForce returns the newest of shares whose sharing still holds: on its legal basis, or on
// its DATA_SHARING consent record, in force in c's consent history (consent.Derive ran). None
// is a consent.MissingError for DATA_SHARING.
func inForce(c *intakev1.Case, shares []share) (share, error) {
	for _, sh := range shares {
		if sh.legalBasis != nil {
			return sh, nil
		}
		for _, x := range c.GetConsents() {
			if sh.consentID != nil && x.GetConsentId() == sh.consentID.String() && x.GetInForce() &&
				x.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING {
				return sh, nil
			}
		}
	}
	return share{}, &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING}
}

// lockShare finds the newest live share of case id with mission, for a change of the
// mission's own access to it (lockCase). The share row is not locked: the change writes only
// rows of the caller's mission, which the assignments' advisory lock orders.
func lockShare(ctx context.Context, tx pgx.Tx, mission string, id uuid.UUID) (lockedCase, error) {
	shares, err := liveShares(ctx, tx, mission, id)
	if err != nil {
		return lockedCase{}, err
	}
	if len(shares) == 0 {
		return lockedCase{}, database.ErrNotFound
	}
	return lockedCase{id: id, mission: mission, handover: shares[0].handoverID}, nil
}

// getSharedCase is GetCase of a case of another mission, by a caller whose mission it is
// shared with. A case shared with no one of the caller's mission is not found, as any other
// mission's case; the acceptance may be a moment old, so the consumer catches up first.
func (s *Service) getSharedCase(ctx context.Context, who auth.Claims, id uuid.UUID, req *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
	var resp *intakev1.GetCaseResponse
	err := s.awaitShare(ctx, id, func() error {
		// One transaction, as for the owner: the share, its consent, the access decision and
		// the identity they allow are read from one snapshot.
		return s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) (err error) {
			resp, err = s.readShared(ctx, tx, who, id, req)
			return err
		})
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// readShared reads, inside tx (declared for the caller's mission), what the caller's mission
// sees of a case shared with it.
func (s *Service) readShared(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID, req *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
	shares, err := liveShares(ctx, tx, who.Mission, id)
	if err != nil {
		return nil, err
	}
	if len(shares) == 0 {
		return nil, database.ErrNotFound
	}
	// Visible through the share alone (migrations/000028's share_receiver_reads).
	c, err := getCase(ctx, tx, "", id, false)
	if err != nil {
		return nil, err
	}
	sh, err := inForce(c, shares)
	if err != nil {
		return nil, err
	}
	resp := &intakev1.GetCaseResponse{Case: sharedView(c, sh.fields)}
	if req.GetView() != intakev1.CaseView_CASE_VIEW_FULL {
		return resp, nil
	}
	if !allowsIdentity(sh.fields) {
		return nil, status.Error(codes.PermissionDenied, "view: the hand-over's data profile allows no identity field")
	}
	a, err := readAccess(ctx, tx, who, id, s.clock())
	if err != nil {
		return nil, err
	}
	if err := checkIdentityAccess(a, req.GetPurpose()); err != nil {
		return nil, err
	}
	// In the receiving mission's chain, naming the hand-over the read rests on.
	reason := req.GetPurpose().String() + " handovers/" + sh.handoverID.String()
	if err := audit.Write(ctx, tx, audit.For(audit.WithReason(ctx, reason), who, who.Mission, id)); err != nil {
		return nil, err
	}
	identity, err := s.identity(ctx, tx, resp.Case)
	if err != nil {
		return nil, err
	}
	resp.Identity = sharedIdentity(identity, sh.fields)
	return resp, nil
}

// awaitShare runs attempt, and once more after the consumer caught up (for at most
// catchUpWait) when it found no case: a hand-over accepted a moment ago may not be applied yet.
func (s *Service) awaitShare(ctx context.Context, _ uuid.UUID, attempt func() error) error {
	err := attempt()
	if !errors.Is(err, database.ErrNotFound) {
		return err
	}
	if err := s.consumer.CatchUp(ctx, s.catchUpWait); err != nil {
		return err
	}
	return attempt()
}
