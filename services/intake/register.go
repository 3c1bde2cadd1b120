package intake

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/ageband"
	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// RegisterCase opens a case. Every person's identity is sealed into the vault under a data
// key of their own; the case holds their random subject ids and coded attributes. The handler
// prepares everything it can alone (validation, sealing, blind indexes, the case record), then
// hands the registration to the group commit (registrar.go), which writes it with the others
// that arrived at the same time: the replay check and the duplicate search in one round trip
// (what the caller may see of the duplicates found: duplicates.go), then vault rows, blind indexes, case, members, consents, outbox event, audit record and
// idempotency record in one statement that commits or fails as one.
func (s *Service) RegisterCase(ctx context.Context, req *intakev1.RegisterCaseRequest) (*intakev1.RegisterCaseResponse, error) {
	r, err := s.prepareRegistration(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := s.registrar.Do(ctx, r); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.resp, nil
}

// prepareRegistration checks req and does the registration's work that needs no database:
// sealing, blind indexes, the case record and its audit entry.
func (s *Service) prepareRegistration(ctx context.Context, req *intakev1.RegisterCaseRequest) (*pendingCase, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if !who.InMission(req.GetMission()) {
		return nil, status.Error(codes.PermissionDenied, "mission: a case can only be registered in the caller's mission")
	}
	now := s.clock()
	today := civildate.Day(now)
	if err := checkRegistration(req, today); err != nil {
		return nil, err
	}
	// The principal's subject id is drawn below; until then "" stands for them.
	if err := requireAssistance(newConsents(req.GetConsents(), who.Subject, ""), ""); err != nil {
		return nil, toStatus(err)
	}

	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_RegisterCase_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	key = callerKey(s.keys, key, who)
	registered := today
	if d := req.GetRegistrationDate(); d != nil {
		registered = civildate.ToTime(d)
	}
	people := append([]*commonv1.Person{req.GetPrincipal()}, req.GetHouseholdMembers()...)
	r := &pendingCase{
		key:      key,
		who:      who,
		subjects: make([]uuid.UUID, len(people)),
		indexes:  make([][]vault.BlindIndex, len(people)),
		entries:  make([]vault.Entry, len(people)),
	}
	members := make([]*intakev1.CaseMember, len(people))
	for i, p := range people {
		r.subjects[i] = uuid.New()
		sealed, err := s.keys.Seal(r.subjects[i], p)
		if err != nil {
			return nil, fmt.Errorf("seal identity: %w", err)
		}
		r.indexes[i] = s.keys.BlindIndexes(p)
		for _, ix := range r.indexes[i] {
			r.digests = append(r.digests, ix.Digest)
		}
		// The search's indexes are stored with the duplicate check's, which looks up only its own.
		r.entries[i] = vault.Entry{SubjectID: r.subjects[i], Sealed: sealed, Indexes: slices.Concat(r.indexes[i], s.keys.SearchIndexes(p))}
		members[i] = &intakev1.CaseMember{
			SubjectId:   r.subjects[i].String(),
			Sex:         storedSex(p.GetSex()),
			AgeBand:     ageband.At(p.GetDateOfBirth(), registered),
			Nationality: p.GetNationality(),
		}
	}
	caseID := uuid.New()
	r.c = &intakev1.Case{
		CaseId:           caseID.String(),
		Mission:          req.GetMission(),
		Programme:        req.GetProgramme(),
		Status:           intakev1.CaseStatus_CASE_STATUS_REGISTERED,
		Version:          1,
		SubjectId:        r.subjects[0].String(),
		Principal:        members[0],
		HouseholdMembers: members[1:],
		Vulnerabilities:  req.GetVulnerabilities(),
		HostCountry:      req.GetHostCountry(),
		Consents:         newConsents(req.GetConsents(), who.Subject, r.subjects[0].String()),
		RegistrationDate: civildate.FromTime(registered),
		CreateTime:       timestamppb.New(now),
		UpdateTime:       timestamppb.New(now),
	}
	consent.Mark(r.c)
	r.audit = audit.For(ctx, who, r.c.Mission, caseID).WithClientRequest(key.RequestID)
	return r, nil
}
