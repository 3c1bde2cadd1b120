package returns

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// Reads open alike in every service (the caller, the case id, the caller's scope) and then
// read the service's own tables.

// GetReturn reads a return of the caller's mission with every fact recorded on it.
func (s *Service) GetReturn(ctx context.Context, req *returnsv1.GetReturnRequest) (*returnsv1.GetReturnResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseCaseID(req.GetCaseId())
	if err != nil {
		return nil, err
	}
	rec, err := s.read(ctx, who.Mission, id)
	if err != nil {
		return nil, toStatus(err)
	}
	return &returnsv1.GetReturnResponse{Return: rec.ret}, nil
}

// ListReturns lists the caller's mission's returns, newest first, without their facts.
func (s *Service) ListReturns(ctx context.Context, req *returnsv1.ListReturnsRequest) (*returnsv1.ListReturnsResponse, error) {
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
	if req.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_UNSPECIFIED {
		f.status = enumcode.Code(req.GetStatus())
	}
	filter := listFilterHash(mission, req.GetStatus())
	if tok := req.GetPageToken(); tok != "" {
		if f.after, err = pagetoken.Decode(tok, filter); err != nil {
			var v rpcerr.Violations
			v.Add("page_token", pagetoken.Mismatch)
			return nil, v.Err()
		}
	}
	// Read one more than a page to know whether another page follows.
	f.limit++
	returns, err := listReturns(ctx, s.db.Mission(mission), f)
	if err != nil {
		return nil, err
	}
	resp := &returnsv1.ListReturnsResponse{Returns: returns}
	if len(returns) == f.limit {
		resp.Returns = returns[:f.limit-1]
		last := resp.Returns[len(resp.Returns)-1]
		resp.NextPageToken = pagetoken.Encode(pagetoken.Cursor{Time: last.CreateTime.AsTime(), ID: uuid.MustParse(last.CaseId)}, filter)
	}
	return resp, nil
}

// listFilterHash is what a page token is bound to: every filter of the request, so that a
// token cannot be replayed against other filters. The page size may change between pages.
func listFilterHash(mission string, st returnsv1.ReturnStatus) []byte {
	return pagetoken.Filter(fmt.Sprintf("%s|%d", mission, st))
}
