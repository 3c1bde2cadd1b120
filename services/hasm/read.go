package hasm

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

const (
	defaultPageSize = 25
	maxPageSize     = 100
)

// GetRequest reads a case's request: one of the caller's mission, or of any mission for a
// programme manager at HQ.
func (s *Service) GetRequest(ctx context.Context, req *hasmv1.GetRequestRequest) (*hasmv1.GetRequestResponse, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseCaseID(req.GetCaseId())
	if err != nil {
		return nil, err
	}
	r, err := getRequest(ctx, s.pool, requestScope(who), id, false)
	if err != nil {
		return nil, toStatus(err)
	}
	return &hasmv1.GetRequestResponse{Request: r}, nil
}

// ListRequests lists requests newest first: the caller's mission's, or for a programme
// manager at HQ any mission's (every mission's when the filter is empty).
func (s *Service) ListRequests(ctx context.Context, req *hasmv1.ListRequestsRequest) (*hasmv1.ListRequestsResponse, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	f := requestFilter{mission: req.GetMission(), limit: int(req.GetPageSize())}
	if !atHQ(who, auth.RoleProgrammeManager) {
		if f.mission == "" {
			f.mission = who.Mission
		}
		if !who.InMission(f.mission) {
			return nil, status.Error(codes.PermissionDenied, "mission: only the caller's mission can be listed")
		}
	}
	if f.limit == 0 {
		f.limit = defaultPageSize
	}
	f.limit = min(f.limit, maxPageSize)
	if req.GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_UNSPECIFIED {
		f.status = code(req.GetStatus(), statusPrefix)
	}
	filterHash := listFilterHash(f.mission, f.status)
	var v violations
	if tok := req.GetPageToken(); tok != "" {
		if f.after, err = decodePageToken(tok, filterHash); err != nil {
			v.add("page_token", "is not a token from a previous response with the same filters")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}

	// Read one more than a page to know whether another page follows.
	f.limit++
	requests, err := listRequests(ctx, s.pool, f)
	if err != nil {
		return nil, err
	}
	resp := &hasmv1.ListRequestsResponse{Requests: requests}
	if len(requests) == f.limit {
		resp.Requests = requests[:f.limit-1]
		last := resp.Requests[len(resp.Requests)-1]
		resp.NextPageToken = encodePageToken(cursor{CreatedAt: last.CreateTime.AsTime(), CaseID: uuid.MustParse(last.CaseId)}, filterHash)
	}
	return resp, nil
}

// pageToken is the opaque next_page_token: the cursor, and a hash of the filters it was
// issued for so that it cannot be replayed against other filters (or another mission).
type pageToken struct {
	cursor
	Filter []byte `json:"f"`
}

func listFilterHash(mission, status string) []byte {
	h := sha256.Sum256([]byte(mission + "|" + status))
	return h[:8]
}

func encodePageToken(c cursor, filter []byte) string {
	b, _ := json.Marshal(pageToken{cursor: c, Filter: filter}) // a struct of a time, a UUID and bytes always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(tok string, filter []byte) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, err
	}
	var p pageToken
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if string(p.Filter) != string(filter) || p.CaseID == uuid.Nil {
		return nil, errors.New("page token for other filters")
	}
	return &p.cursor, nil
}
