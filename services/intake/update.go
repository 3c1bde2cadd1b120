package intake

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/ageband"
	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Paths UpdateCase accepts in update_mask.
const (
	pathVulnerabilities = "vulnerabilities"
	pathHostCountry     = "host_country"
	pathStatus          = "status"
	pathPrincipal       = "principal"
)

var updatablePaths = []string{pathVulnerabilities, pathHostCountry, pathStatus, pathPrincipal}

// UpdateCase changes the fields named in update_mask if the case is still at the version the
// caller read.
func (s *Service) UpdateCase(ctx context.Context, req *intakev1.UpdateCaseRequest) (*intakev1.UpdateCaseResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	today := civildate.Day(s.clock())
	paths, err := checkUpdate(req, today)
	if err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_UpdateCase_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.UpdateCaseResponse{}
	err = s.mutate(ctx, who, key, req.GetCaseId(), req.GetVersion(), resp, func(tx pgx.Tx, c *intakev1.Case, b *pgx.Batch) (proto.Message, error) {
		for _, p := range paths {
			switch p {
			case pathVulnerabilities:
				c.Vulnerabilities = req.GetVulnerabilities()
			case pathHostCountry:
				c.HostCountry = req.GetHostCountry()
			case pathStatus:
				if err := checkTransition(c.Status, req.GetStatus()); err != nil {
					return nil, err
				}
				if c.Status != req.GetStatus() {
					if err := requireActiveAssistance(c, req.GetStatus()); err != nil {
						return nil, err
					}
				}
				c.Status = req.GetStatus()
			case pathPrincipal:
				// Correcting an identity shows it to no one, but replaces it: the same rule as
				// reading it, without the break-glass exception, which is for reading only.
				if err := s.checkWorksOn(ctx, tx, who, c.CaseId); err != nil {
					return nil, err
				}
				if err := s.queueNewPrincipal(ctx, tx, b, c, req); err != nil {
					return nil, err
				}
			}
		}
		if slices.Contains(paths, pathVulnerabilities) || slices.Contains(paths, pathPrincipal) {
			var v rpcerr.Violations
			checkUnaccompaniedChildBand(&v, c.Vulnerabilities, c.Principal.AgeBand)
			if err := v.Err(); err != nil {
				return nil, err
			}
		}
		resp.Case = c
		return &intakev1.CaseUpdated{Case: c, ChangedFields: paths}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// CloseCase closes an open case with a coded reason.
func (s *Service) CloseCase(ctx context.Context, req *intakev1.CloseCaseRequest) (*intakev1.CloseCaseResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_CloseCase_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.CloseCaseResponse{}
	ctx = audit.WithReason(ctx, req.GetReason().String())
	err = s.mutate(ctx, who, key, req.GetCaseId(), req.GetVersion(), resp, func(_ pgx.Tx, c *intakev1.Case, _ *pgx.Batch) (proto.Message, error) {
		if err := checkClose(c.Status); err != nil {
			return nil, err
		}
		c.Status = intakev1.CaseStatus_CASE_STATUS_CLOSED
		c.ClosureReason = req.GetReason()
		resp.Case = c
		return &intakev1.CaseClosed{Case: c}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// change applies a mutation to a locked case: it edits c in place, may queue extra writes on
// b, fills the response, and returns the event to record.
type change func(tx pgx.Tx, c *intakev1.Case, b *pgx.Batch) (proto.Message, error)

// mutate runs one change to an existing case (mutation.Kind.Run: the row lock, the replay of
// a retried request, the version check, the case row, the outbox event, the audit and
// idempotency records in one transaction).
func (s *Service) mutate(ctx context.Context, who auth.Claims, key idempotency.Key, caseID string, version int64, resp proto.Message, apply change) error {
	m := mutation.Mutation{Who: who, Key: key, Ref: caseID, Version: version, Resp: resp}
	return s.cases.Run(ctx, m, func(c *intakev1.Case, st *mutation.Step) (proto.Message, error) {
		return apply(st.Tx, c, st.Batch)
	})
}

// kind describes a case to mutation.Run. Every service's Kind is alike in shape: each names
// its own aggregate, table and errors.
func (s *Service) kind() mutation.Kind[*intakev1.Case] {
	return mutation.Kind[*intakev1.Case]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse: parseCaseID,
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*intakev1.Case, error) {
			return getCase(ctx, tx, s.missionFilter(who), id, true)
		},
		Version: (*intakev1.Case).GetVersion,
		Mission: (*intakev1.Case).GetMission,
		Stale: func(caseID string, c *intakev1.Case) error {
			return staleVersion(caseID, c.GetVersion())
		},
		Save: func(c *intakev1.Case, st *mutation.Step) {
			c.Version = st.Version
			c.UpdateTime = timestamppb.New(st.Now)
			queueUpdateCase(st.Batch, c)
		},
	}
}

// queueNewPrincipal reseals the principal's corrected identity with their existing data key,
// replaces their blind indexes and recodes their attributes.
func (s *Service) queueNewPrincipal(ctx context.Context, tx pgx.Tx, b *pgx.Batch, c *intakev1.Case, req *intakev1.UpdateCaseRequest) error {
	subject := uuid.MustParse(c.SubjectId)
	sealed, err := vault.Get(ctx, tx, []uuid.UUID{subject})
	if err != nil {
		return err
	}
	current, ok := sealed[subject]
	if !ok {
		// An erased identity is gone for good; a correction would bring a person back under
		// the old subject id. Register them anew instead, if they come back.
		const msg = "the principal's identity was erased"
		return rpcerr.WithDetails(codes.FailedPrecondition, msg, &errdetails.PreconditionFailure{
			Violations: []*errdetails.PreconditionFailure_Violation{rpcerr.Violation("ERASED", "principal", msg)},
		})
	}
	p := req.GetPrincipal()
	ciphertext, err := s.keys.Reseal(subject, current.WrappedKey, p)
	if err != nil {
		return fmt.Errorf("reseal identity: %w", err)
	}
	vault.QueueReplace(b, c.Mission, subject, ciphertext, slices.Concat(s.keys.BlindIndexes(p), s.keys.SearchIndexes(p)))
	c.Principal = &intakev1.CaseMember{
		SubjectId:   c.SubjectId,
		Sex:         storedSex(p.GetSex()),
		AgeBand:     ageband.At(p.GetDateOfBirth(), civildate.ToTime(c.RegistrationDate)),
		Nationality: p.GetNationality(),
	}
	queueUpdatePrincipal(b, c.CaseId, c.Principal)
	return nil
}

// checkUpdate validates an UpdateCase request and returns its mask's paths, each once.
func checkUpdate(req *intakev1.UpdateCaseRequest, today time.Time) ([]string, error) {
	var v rpcerr.Violations
	var paths []string
	for _, p := range req.GetUpdateMask().GetPaths() {
		switch {
		case !slices.Contains(updatablePaths, p):
			v.Add("update_mask", "can only name vulnerabilities, host_country, status or principal")
		case !slices.Contains(paths, p):
			paths = append(paths, p)
		}
	}
	if len(req.GetUpdateMask().GetPaths()) == 0 {
		v.Add("update_mask", "must name at least one field")
	}
	for _, p := range paths {
		switch p {
		case pathHostCountry:
			checkCountry(&v, "host_country", req.GetHostCountry(), true)
		case pathStatus:
			if req.GetStatus() == intakev1.CaseStatus_CASE_STATUS_UNSPECIFIED {
				v.Add("status", "is required when update_mask names it")
			} else if req.GetStatus() == intakev1.CaseStatus_CASE_STATUS_CLOSED {
				v.Add("status", "use CloseCase to close a case")
			}
		case pathPrincipal:
			checkPerson(&v, "principal", req.GetPrincipal(), today)
		}
	}
	return paths, v.Err()
}
