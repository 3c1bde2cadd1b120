package trafficking

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// Reads open alike in every service (the caller, the case id, the caller's scope) and then
// read the service's own tables.

// GetVictimCase reads a victim case of the caller's mission, or one it holds a part of,
// pseudonymised: with the assistance records the caller's mission made and the parts handed
// over.
func (s *Service) GetVictimCase(ctx context.Context, req *traffickingv1.GetVictimCaseRequest) (*traffickingv1.GetVictimCaseResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseCaseID(req.GetCaseId())
	if err != nil {
		return nil, err
	}
	// A miss catches up with the consumer's events: the case may have been registered, or a
	// part of it handed over to the caller's mission, a moment ago.
	var c *traffickingv1.VictimCase
	err = intakecase.Await(ctx, s.consumer, id, catchUpWait, notFound, func() (err error) {
		c, err = getCase(ctx, s.db.Mission(who.Mission), s.missionFilter(who), id, false)
		return err
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &traffickingv1.GetVictimCaseResponse{VictimCase: c}, nil
}

// ListVictimCases lists the caller's mission's victim cases and those it holds a part of,
// newest registration first, as GetVictimCase shows them.
func (s *Service) ListVictimCases(ctx context.Context, req *traffickingv1.ListVictimCasesRequest) (*traffickingv1.ListVictimCasesResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	mission := req.GetMission()
	if mission == "" {
		mission = who.Mission
	}
	if !who.InMission(mission) {
		return nil, status.Error(codes.PermissionDenied, "mission: only the caller's mission can be listed")
	}
	f := listFilter{mission: mission, limit: pagetoken.Size(req.GetPageSize())}
	if req.GetStatus() != traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_UNSPECIFIED {
		f.status = enumcode.Code(req.GetStatus())
	}
	filterHash := listFilterHash(req)
	if tok := req.GetPageToken(); tok != "" {
		if f.after, err = pagetoken.Decode(tok, filterHash); err != nil {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("page_token", pagetoken.Mismatch))
		}
	}

	// Read one more than a page to know whether another page follows.
	f.limit++
	cases, err := listCases(ctx, s.db.Mission(mission), f)
	if err != nil {
		return nil, err
	}
	resp := &traffickingv1.ListVictimCasesResponse{VictimCases: cases}
	if len(cases) == f.limit {
		resp.VictimCases = cases[:f.limit-1]
		last := resp.VictimCases[len(resp.VictimCases)-1]
		resp.NextPageToken = pagetoken.Encode(pagetoken.Cursor{Time: last.CreateTime.AsTime(), ID: uuid.MustParse(last.CaseId)}, filterHash)
	}
	return resp, nil
}

// listFilterHash is what a page token is bound to: every filter of the request, so that a
// token cannot be replayed against other filters. The page size may change between pages.
func listFilterHash(req *traffickingv1.ListVictimCasesRequest) []byte {
	return pagetoken.Filter(fmt.Sprintf("%s|%d", req.GetMission(), req.GetStatus()))
}

// parseCaseID parses a case id (rpcerr.ParseID).
func parseCaseID(s string) (uuid.UUID, error) { return rpcerr.ParseID("case_id", s) }
