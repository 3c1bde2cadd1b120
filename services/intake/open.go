package intake

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/ageband"
	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// OpenCase opens a case in another programme for people of an existing case, under their
// subject ids. Their identities stay where they are in the vault; only their coded attributes
// are computed again, for the new registration date.
func (s *Service) OpenCase(ctx context.Context, req *intakev1.OpenCaseRequest) (*intakev1.OpenCaseResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	today := civildate.Day(now)
	var v rpcerr.Violations
	checkCountry(&v, "host_country", req.GetHostCountry(), false)
	checkConsents(&v, req.GetConsents(), today, false)
	registered := today
	if d := req.GetRegistrationDate(); d != nil {
		err := civildate.CheckFull(d)
		if err == nil {
			err = civildate.NotAfter(d, today)
		}
		checkDate(&v, "registration_date", err)
		if err == nil {
			registered = civildate.ToTime(d)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	fromID, err := parseCaseID(req.GetFromCaseId())
	if err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_OpenCase_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.OpenCaseResponse{}
	db := s.db.Mission(who.Mission)
	if replayed, err := s.idem.Replay(ctx, db, key, resp); replayed || err != nil {
		return resp, toStatus(err)
	}

	from, err := getCase(ctx, db, s.missionFilter(who), fromID, false)
	if err != nil {
		return nil, toStatus(err)
	}
	// The new case's creator works on it and reads its identity, which is the source case's
	// people's: opening one is for staff who already read them, or it would be a side door
	// round the rule that identity is for staff working on the case (access.go).
	a, err := readAccess(ctx, db, who, fromID, now)
	if err != nil {
		return nil, toStatus(err)
	}
	if !a.worksOn {
		return nil, status.Error(codes.PermissionDenied, "from_case_id: only staff working on the case may open another for its people")
	}
	people, err := chosenPeople(from, req.GetSubjectIds())
	if err != nil {
		return nil, err
	}
	records, err := openConsents(req.GetConsents(), who.Subject, people)
	if err != nil {
		return nil, err
	}
	if err := requireAssistance(records, people[0].String()); err != nil {
		return nil, toStatus(err)
	}
	exists, err := openCaseExists(ctx, db, who.Mission, people[0], enumcode.Code(req.GetProgramme()))
	if err != nil {
		return nil, err
	}
	if exists {
		const msg = "the principal already has an open case in that programme"
		return nil, rpcerr.WithDetails(codes.FailedPrecondition, msg, &errdetails.PreconditionFailure{
			Violations: []*errdetails.PreconditionFailure_Violation{rpcerr.Violation("OPEN_CASE", "programme", msg)},
		})
	}

	// Age bands are computed again for the new registration date from the vault; the case
	// tables never held the dates of birth.
	sealed, err := vault.Get(ctx, db, people)
	if err != nil {
		return nil, err
	}
	members := make([]*intakev1.CaseMember, len(people))
	for i, id := range people {
		sl, ok := sealed[id]
		if !ok {
			const msg = "a person of the source case was erased"
			return nil, rpcerr.WithDetails(codes.FailedPrecondition, msg, &errdetails.PreconditionFailure{
				Violations: []*errdetails.PreconditionFailure_Violation{rpcerr.Violation("ERASED", "subject_ids", msg)},
			})
		}
		p, err := s.keys.Open(id, sl)
		if err != nil {
			return nil, fmt.Errorf("open identity: %w", err)
		}
		members[i] = &intakev1.CaseMember{SubjectId: id.String(), Sex: storedSex(p.GetSex()),
			AgeBand: ageband.At(p.GetDateOfBirth(), registered), Nationality: p.GetNationality()}
	}
	var vv rpcerr.Violations
	checkUnaccompaniedChildBand(&vv, req.GetVulnerabilities(), members[0].AgeBand)
	if err := vv.Err(); err != nil {
		return nil, err
	}

	host := req.GetHostCountry()
	if host == "" {
		host = from.HostCountry
	}
	c := &intakev1.Case{
		CaseId:           uuid.NewString(),
		Mission:          from.Mission,
		Programme:        req.GetProgramme(),
		Status:           intakev1.CaseStatus_CASE_STATUS_REGISTERED,
		Version:          1,
		SubjectId:        members[0].SubjectId,
		Principal:        members[0],
		HouseholdMembers: members[1:],
		Vulnerabilities:  req.GetVulnerabilities(),
		HostCountry:      host,
		Consents:         records,
		RegistrationDate: civildate.FromTime(registered),
		CreateTime:       timestamppb.New(now),
		UpdateTime:       timestamppb.New(now),
		OpenedFromCaseId: from.CaseId,
	}
	consent.Mark(c)
	resp.Case = c
	if err := s.insertOpenedCase(ctx, key, c, who, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// insertOpenedCase writes an opened case, its CaseRegistered event, the call's audit record
// and its first result resp in one statement (database.Statement), sent after the mission's
// declaration as one batch: one round trip, one implicit transaction. When a retry with the
// same request id committed first, resp is replaced by that first result.
func (s *Service) insertOpenedCase(ctx context.Context, key idempotency.Key, c *intakev1.Case, who auth.Claims, resp *intakev1.OpenCaseResponse) error {
	id := uuid.MustParse(c.CaseId)
	var st database.Statement
	if err := s.idem.Add(&st, []idempotency.Record{{Key: key, Response: resp}}); err != nil {
		return err
	}
	addInsertCases(&st, c.Mission, []*intakev1.Case{c}, []string{who.Subject})
	if err := outbox.Add(&st, []outbox.Event{{Producer: producer, AggregateID: id, Mission: c.Mission,
		Payload: &intakev1.CaseRegistered{Case: c}}}); err != nil {
		return err
	}
	audit.Add(&st, []audit.Entry{audit.For(ctx, who, c.Mission, id).WithClientRequest(key.RequestID)})
	b := &pgx.Batch{}
	st.Queue(b)
	err := s.db.Mission(c.Mission).SendBatch(ctx, b).Close()
	if err := s.idem.Settle(ctx, s.db.Mission(key.Mission), key, resp, err); err != nil {
		return toStatus(fmt.Errorf("insert case: %w", err))
	}
	return nil
}

// openConsents makes the first consent records of an opened case; each names one of its
// people (the principal when unnamed). checkConsents has checked the names against the
// request's subject_ids; an empty subject_ids (everyone) is checked here.
func openConsents(in []*commonv1.Consent, by string, people []uuid.UUID) ([]*commonv1.Consent, error) {
	var v rpcerr.Violations
	for i, c := range in {
		if c.GetSubjectId() == "" {
			continue
		}
		if id, err := uuid.Parse(c.GetSubjectId()); err != nil || !slices.Contains(people, id) {
			v.Add(fmt.Sprintf("consents[%d].subject_id", i), "is not a person of the case")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return newConsents(in, by, people[0].String()), nil
}

// chosenPeople returns the subject ids of the source case's people that the new case is for,
// principal first.
func chosenPeople(from *intakev1.Case, chosen []string) ([]uuid.UUID, error) {
	all := append([]*intakev1.CaseMember{from.Principal}, from.HouseholdMembers...)
	if len(chosen) == 0 {
		out := make([]uuid.UUID, len(all))
		for i, m := range all {
			out[i] = uuid.MustParse(m.SubjectId)
		}
		return out, nil
	}
	var v rpcerr.Violations
	in := map[string]bool{}
	for i, id := range chosen {
		found := false
		for _, m := range all {
			found = found || m.SubjectId == id
		}
		if !found {
			v.Add(fmt.Sprintf("subject_ids[%d]", i), "is not a person of the source case")
		}
		in[id] = true
	}
	if !in[from.Principal.SubjectId] {
		v.Add("subject_ids", "must include the source case's principal")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := []uuid.UUID{uuid.MustParse(from.Principal.SubjectId)}
	for _, m := range from.HouseholdMembers {
		if in[m.SubjectId] {
			out = append(out, uuid.MustParse(m.SubjectId))
		}
	}
	return out, nil
}
