package hasm

import (
	"context"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// Reads open alike in every service (the caller, the case id, the caller's scope) and then
// read the service's own tables.

// GetRequest reads a case's request: the caller's mission's, or any mission's for a
// programme manager at HQ (the case's own mission's when the call names none).
func (s *Service) GetRequest(ctx context.Context, req *hasmv1.GetRequestRequest) (*hasmv1.GetRequestResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseCaseID(req.GetCaseId())
	if err != nil {
		return nil, err
	}
	scope, err := requestScope(who, req.GetMission())
	if err != nil {
		return nil, err
	}
	r, err := getRequest(ctx, s.db.Mission(who.Mission), scope, id, false)
	if err != nil {
		return nil, toStatus(err)
	}
	return &hasmv1.GetRequestResponse{Request: r}, nil
}

// ListRequests lists requests newest first: the caller's mission's, or for a programme
// manager at HQ any mission's (every mission's when the filter is empty).
func (s *Service) ListRequests(ctx context.Context, req *hasmv1.ListRequestsRequest) (*hasmv1.ListRequestsResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	f := requestFilter{mission: req.GetMission(), limit: pagetoken.Size(req.GetPageSize())}
	if !atHQ(who, auth.RoleProgrammeManager) {
		if f.mission == "" {
			f.mission = who.Mission
		}
		if !who.InMission(f.mission) {
			return nil, status.Error(codes.PermissionDenied, "mission: only the caller's mission can be listed")
		}
	}
	if req.GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_UNSPECIFIED {
		f.status = enumcode.Code(req.GetStatus())
	}
	filterHash := listFilterHash(f.mission, f.status)
	var v rpcerr.Violations
	if tok := req.GetPageToken(); tok != "" {
		if f.after, err = pagetoken.Decode(tok, filterHash); err != nil {
			v.Add("page_token", pagetoken.Mismatch)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}

	// Read one more than a page to know whether another page follows.
	f.limit++
	requests, err := listRequests(ctx, s.db.Mission(who.Mission), f)
	if err != nil {
		return nil, err
	}
	resp := &hasmv1.ListRequestsResponse{Requests: requests}
	if len(requests) == f.limit {
		resp.Requests = requests[:f.limit-1]
		last := resp.Requests[len(resp.Requests)-1]
		resp.NextPageToken = pagetoken.Encode(pagetoken.Cursor{Time: last.CreateTime.AsTime(), ID: uuid.MustParse(last.CaseId)}, filterHash)
	}
	return resp, nil
}

// listFilterHash is what a page token is bound to: every filter of the request, so that a
// token cannot be replayed against other filters (or another mission). The page size may change between pages.
func listFilterHash(mission, status string) []byte {
	return pagetoken.Filter(mission + "|" + status)
}
