package intake

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const (
	// defaultBreakGlass is a grant's life when the request does not say.
	defaultBreakGlass = 30 * time.Minute
	// maxBreakGlass caps a grant's life: an emergency is short, and a longer need is an
	// assignment, which a colleague makes and can see.
	maxBreakGlass = time.Hour
	// reasonDomain keys the reason's digest apart from every other fingerprint.
	reasonDomain = "intake.break-glass-reason"
)

// errGrantNotFound is a grant that does not exist or belongs to another mission, alike.
var errGrantNotFound = status.Error(codes.NotFound, "break-glass grant not found")

// BreakGlass gives the calling supervisor a short-lived grant to read one case's identity.
func (s *Service) BreakGlass(ctx context.Context, req *intakev1.BreakGlassRequest) (*intakev1.BreakGlassResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := parseCaseID(req.GetCaseId()); err != nil {
		return nil, err
	}
	life, err := grantLife(req)
	if err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_BreakGlass_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.BreakGlassResponse{}
	m := mutation.Mutation{Who: who, Key: key, Ref: req.GetCaseId(), Resp: resp}
	err = s.access.Run(ctx, m, func(c lockedCase, st *mutation.Step) (proto.Message, error) {
		id, now := c.id, st.Now
		g := &intakev1.BreakGlassGrant{
			GrantId: uuid.NewString(), CaseId: id.String(), Mission: who.Mission, Grantee: who.Subject,
			CreateTime: timestamppb.New(now), ExpireTime: timestamppb.New(now.Add(life)),
		}
		// The reason is kept only as a keyed digest: it may name the person or the
		// emergency, and a grant is read by reviewers who need no more than who, when, what.
		_, err := st.Tx.Exec(ctx, `INSERT INTO intake.break_glass_grant
  (grant_id, mission, case_id, grantee, reason_digest, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`, g.GrantId, g.Mission, id, g.Grantee,
			s.keys.Fingerprint(reasonDomain, []byte(req.GetReason())), now, now.Add(life))
		if err != nil {
			return nil, fmt.Errorf("insert grant: %w", err)
		}
		resp.Grant = g
		return nil, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// grantLife is the requested life of a grant, checked here too so that the cap holds even
// without the validation stage.
func grantLife(req *intakev1.BreakGlassRequest) (time.Duration, error) {
	if req.GetDuration() == nil {
		return defaultBreakGlass, nil
	}
	d := req.GetDuration().AsDuration()
	if err := req.GetDuration().CheckValid(); err != nil || d <= 0 || d > maxBreakGlass {
		return 0, rpcerr.InvalidArgument(rpcerr.FieldViolation("duration", "must be more than 0s and at most 1h"))
	}
	return d, nil
}

// ListBreakGlassGrants lists the mission's grants, newest first. A grant carries no reason
// and no identity: what a reviewer needs is who opened which case, when, for how long.
func (s *Service) ListBreakGlassGrants(ctx context.Context, req *intakev1.ListBreakGlassGrantsRequest) (*intakev1.ListBreakGlassGrantsResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	mission, err := missionOf(who, req.GetMission())
	if err != nil {
		return nil, err
	}
	limit := pagetoken.Size(req.GetPageSize())
	filterHash := pagetoken.Filter(fmt.Sprintf("grants|%s|%t", req.GetMission(), req.GetUnreviewedOnly()))
	var after *pagetoken.Cursor
	if tok := req.GetPageToken(); tok != "" {
		if after, err = pagetoken.Decode(tok, filterHash); err != nil {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("page_token", pagetoken.Mismatch))
		}
	}
	var grants []*intakev1.BreakGlassGrant
	err = s.db.MissionTx(ctx, mission, func(tx pgx.Tx) error {
		grants = nil
		sql := `SELECT ` + grantColumns + ` FROM intake.break_glass_grant g
WHERE g.mission = $1 AND (NOT $2 OR g.reviewed_at IS NULL)`
		args := []any{mission, req.GetUnreviewedOnly()}
		if after != nil {
			sql += ` AND (g.created_at, g.grant_id) < ($3, $4)`
			args = append(args, after.Time, after.ID)
		}
		sql += fmt.Sprintf(` ORDER BY g.created_at DESC, g.grant_id DESC LIMIT %d`, limit+1)
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		grants, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*intakev1.BreakGlassGrant, error) { return scanGrant(row) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	resp := &intakev1.ListBreakGlassGrantsResponse{Grants: grants}
	if len(grants) > limit {
		resp.Grants = grants[:limit]
		last := resp.Grants[limit-1]
		resp.NextPageToken = pagetoken.Encode(pagetoken.Cursor{Time: last.CreateTime.AsTime(), ID: uuid.MustParse(last.GrantId)}, filterHash)
	}
	return resp, nil
}

// ReviewBreakGlass records a reviewer's finding on a grant, once.
func (s *Service) ReviewBreakGlass(ctx context.Context, req *intakev1.ReviewBreakGlassRequest) (*intakev1.ReviewBreakGlassResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := parseGrantID(req.GetGrantId()); err != nil {
		return nil, err
	}
	if req.GetFinding() == intakev1.BreakGlassFinding_BREAK_GLASS_FINDING_UNSPECIFIED {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("finding", "is required"))
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_ReviewBreakGlass_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.ReviewBreakGlassResponse{}
	ctx = audit.WithReason(ctx, req.GetFinding().String())
	m := mutation.Mutation{Who: who, Key: key, Ref: req.GetGrantId(), Resp: resp}
	err = s.grants.Run(ctx, m, func(g *intakev1.BreakGlassGrant, st *mutation.Step) (proto.Message, error) {
		if g.Grantee == who.Subject {
			return nil, status.Error(codes.PermissionDenied, "grant_id: a grant is reviewed by someone other than its grantee")
		}
		if g.Review != nil {
			return nil, rpcerr.FailedPrecondition(errorDomain, "ALREADY_REVIEWED", "the grant was already reviewed", nil,
				rpcerr.Violation("REVIEW", "grants/"+g.GrantId, "the grant was already reviewed"))
		}
		_, err := st.Tx.Exec(ctx, `UPDATE intake.break_glass_grant SET reviewed_by = $2, finding = $3, reviewed_at = $4
WHERE grant_id = $1`, g.GrantId, who.Subject, enumcode.Code(req.GetFinding()), st.Now)
		if err != nil {
			return nil, fmt.Errorf("review grant: %w", err)
		}
		g.Review = &intakev1.BreakGlassReview{Reviewer: who.Subject, Finding: req.GetFinding(), ReviewTime: timestamppb.New(st.Now)}
		resp.Grant = g
		return nil, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// parseGrantID parses a grant id (rpcerr.ParseID).
func parseGrantID(s string) (uuid.UUID, error) { return rpcerr.ParseID("grant_id", s) }

// grantKind describes a break-glass grant to mutation.Run: it has no version, and its review
// is audited (on the grant), not published.
func (s *Service) grantKind() mutation.Kind[*intakev1.BreakGlassGrant] {
	return mutation.Kind[*intakev1.BreakGlassGrant]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse: parseGrantID,
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*intakev1.BreakGlassGrant, error) {
			g, err := scanGrant(tx.QueryRow(ctx, `SELECT `+grantColumns+` FROM intake.break_glass_grant g
WHERE g.grant_id = $1 AND g.mission = $2 FOR UPDATE`, id, who.Mission))
			if errors.Is(err, database.ErrNotFound) {
				return nil, errGrantNotFound
			}
			return g, err
		},
		Mission: (*intakev1.BreakGlassGrant).GetMission,
	}
}

const grantColumns = `g.grant_id, g.case_id, g.mission, g.grantee, g.created_at, g.expires_at,
g.reviewed_by, g.finding, g.reviewed_at`

func scanGrant(row pgx.Row) (*intakev1.BreakGlassGrant, error) {
	var (
		id, caseID        uuid.UUID
		created, expires  time.Time
		reviewer, finding *string
		reviewed          *time.Time
		g                 intakev1.BreakGlassGrant
	)
	if err := row.Scan(&id, &caseID, &g.Mission, &g.Grantee, &created, &expires, &reviewer, &finding, &reviewed); err != nil {
		return nil, database.NotFound(err)
	}
	g.GrantId, g.CaseId = id.String(), caseID.String()
	g.CreateTime, g.ExpireTime = timestamppb.New(created), timestamppb.New(expires)
	if reviewer != nil && finding != nil && reviewed != nil {
		g.Review = &intakev1.BreakGlassReview{
			Reviewer:   *reviewer,
			Finding:    enumcode.Value[intakev1.BreakGlassFinding](*finding),
			ReviewTime: timestamppb.New(*reviewed),
		}
	}
	return &g, nil
}
