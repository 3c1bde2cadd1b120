package intake

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/vault"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const (
	defaultPageSize = 25
	maxPageSize     = 100
)

// GetCase reads a case of the caller's mission; with CASE_VIEW_FULL it decrypts the identity
// of every person in it, for roles allowed to see identity.
func (s *Service) GetCase(ctx context.Context, req *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	full := req.GetView() == intakev1.CaseView_CASE_VIEW_FULL
	if full && !slices.Contains(identityRoles, who.Role) {
		return nil, status.Errorf(codes.PermissionDenied, "view: role %s may not read identity", who.Role)
	}
	id, err := parseCaseID(req.GetCaseId())
	if err != nil {
		return nil, err
	}
	c, err := getCase(ctx, s.pool, who.Mission, id, false)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.GetCaseResponse{Case: c}
	if full {
		if resp.Identity, err = s.identity(ctx, c); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// identity opens the vault rows of a case's people.
func (s *Service) identity(ctx context.Context, c *intakev1.Case) (*intakev1.CaseIdentity, error) {
	members := append([]*intakev1.CaseMember{c.Principal}, c.HouseholdMembers...)
	ids := make([]uuid.UUID, len(members))
	for i, m := range members {
		ids[i] = uuid.MustParse(m.SubjectId)
	}
	sealed, err := vault.Get(ctx, s.pool, ids)
	if err != nil {
		return nil, err
	}
	var erased map[uuid.UUID]vault.Erasure
	if len(sealed) < len(ids) {
		if erased, err = s.erasures(ctx, c.Mission, ids); err != nil {
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

// ListCases lists the caller's mission's cases, newest first. It never returns identity.
func (s *Service) ListCases(ctx context.Context, req *intakev1.ListCasesRequest) (*intakev1.ListCasesResponse, error) {
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
	f := listFilter{mission: mission, hostCountry: req.GetHostCountry(), limit: int(req.GetPageSize())}
	if f.limit == 0 {
		f.limit = defaultPageSize
	}
	f.limit = min(f.limit, maxPageSize)
	if req.GetProgramme() != 0 {
		f.programme = enumcode.Code(req.GetProgramme(), programmePrefix)
	}
	if req.GetStatus() != 0 {
		f.status = enumcode.Code(req.GetStatus(), statusPrefix)
	}
	var v violations
	checkCountry(&v, "host_country", req.GetHostCountry(), false)
	f.from = listDate(&v, "registered_from", req.GetRegisteredFrom())
	f.to = listDate(&v, "registered_to", req.GetRegisteredTo())
	if f.from != nil && f.to != nil && f.to.Before(*f.from) {
		v.add("registered_to", "must not be before registered_from")
	}
	filterHash := listFilterHash(req)
	if tok := req.GetPageToken(); tok != "" {
		if f.after, err = pagetoken.Decode(tok, filterHash); err != nil {
			v.add("page_token", "is not a token from a previous response with the same filters")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}

	// Read one more than a page to know whether another page follows.
	f.limit++
	cases, err := listCases(ctx, s.pool, f)
	if err != nil {
		return nil, err
	}
	resp := &intakev1.ListCasesResponse{Cases: cases}
	if len(cases) == f.limit {
		resp.Cases = cases[:f.limit-1]
		last := resp.Cases[len(resp.Cases)-1]
		resp.NextPageToken = pagetoken.Encode(pagetoken.Cursor{Time: last.CreateTime.AsTime(), ID: uuid.MustParse(last.CaseId)}, filterHash)
	}
	return resp, nil
}

func listDate(v *violations, field string, d *date.Date) *time.Time {
	if d == nil {
		return nil
	}
	if err := civildate.CheckFull(d); err != nil {
		v.add(field, err.Error())
		return nil
	}
	t := civildate.ToTime(d)
	return &t
}

// listFilterHash is what a page token is bound to: every filter of the request, so that a
// token cannot be replayed against other filters. The page size may change between pages.
func listFilterHash(req *intakev1.ListCasesRequest) []byte {
	return pagetoken.Filter(fmt.Sprintf("%s|%d|%d|%s|%v|%v|%v|%v|%v|%v", req.GetMission(), req.GetProgramme(), req.GetStatus(),
		req.GetHostCountry(), req.GetRegisteredFrom().GetYear(), req.GetRegisteredFrom().GetMonth(),
		req.GetRegisteredFrom().GetDay(), req.GetRegisteredTo().GetYear(), req.GetRegisteredTo().GetMonth(),
		req.GetRegisteredTo().GetDay()))
}

// parseCaseID parses a case id that protovalidate already checked; the check here keeps a
// handler safe should it ever be called without the validation stage.
func parseCaseID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, middleware.InvalidArgument(middleware.FieldViolation("case_id", "must be a valid UUID"))
	}
	return id, nil
}
