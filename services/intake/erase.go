package intake

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// eraseRoles may erase a person: the mission supervisor, who answers for the mission's data,
// not the caseworker who works the case.
var eraseRoles = []auth.Role{auth.RoleSupervisor}

// ErasePerson crypto-shreds one person of a case of the caller's mission: the erasure is
// recorded, and their vault row (wrapped data key, sealed identity) and blind indexes are
// deleted, in one transaction with the PersonErased event and the idempotency record. The
// case and its coded attributes are untouched, so every count stays as it was.
func (s *Service) ErasePerson(ctx context.Context, req *intakev1.ErasePersonRequest) (*intakev1.ErasePersonResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(eraseRoles, who.Role) {
		// The policy already refuses other roles; this keeps the rule with the handler.
		return nil, status.Errorf(codes.PermissionDenied, "role %s may not erase a person", who.Role)
	}
	caseID, err := parseCaseID(req.GetCaseId())
	if err != nil {
		return nil, err
	}
	var subject uuid.UUID
	if req.GetSubjectId() != "" {
		if subject, err = uuid.Parse(req.GetSubjectId()); err != nil {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("subject_id", "must be a valid UUID"))
		}
	}
	switch req.GetReason() {
	case intakev1.ErasureReason_ERASURE_REASON_UNSPECIFIED, intakev1.ErasureReason_ERASURE_REASON_RETENTION_EXPIRED:
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("reason", "must be a reason a person can give; RETENTION_EXPIRED is the retention job's"))
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_ErasePerson_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.ErasePersonResponse{}
	// Not mutation.Run: an erasure is of a person, and its write path (erase) is the retention
	// job's and the operator's too, which have no request id; a person already erased is
	// answered with the first erasure and publishes nothing.
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		// Locking the case orders this erasure with any other change to the case.
		c, err := getCase(ctx, tx, who.Mission, caseID, true)
		if err != nil {
			return err
		}
		if replayed, err := s.idem.Replay(ctx, tx, key, resp); replayed || err != nil {
			return err
		}
		if subject == uuid.Nil {
			subject = uuid.MustParse(c.SubjectId)
		} else if !isMember(c, subject) {
			return rpcerr.InvalidArgument(rpcerr.FieldViolation("subject_id", "is not a person of this case"))
		}
		e, err := s.erase(ctx, tx, vault.Erasure{
			SubjectID: subject, Mission: c.Mission, Reason: enumcode.Code(req.GetReason()),
			By: who.Subject, At: s.clock(),
		}, c.CaseId, func(b *pgx.Batch, e *intakev1.Erasure) error {
			resp.Erasure = e
			var st database.Statement
			audit.Add(&st, []audit.Entry{audit.For(ctx, who, c.Mission, caseID).WithClientRequest(key.RequestID)})
			if err := s.idem.Add(&st, []idempotency.Record{{Key: key, Response: resp}}); err != nil {
				return err
			}
			st.Queue(b)
			return nil
		})
		if err != nil {
			return err
		}
		resp.Erasure = e
		return nil
	})
	if err := s.idem.Settle(ctx, s.db.Mission(key.Mission), key, resp, err); err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// erase records and performs one erasure inside tx (declared for e.Mission), with its
// PersonErased event; caseID is the case it was asked through ("" for the retention job and
// the operator). A person already erased is not erased again: the first erasure is returned
// and no event is written. also, if not nil, queues more writes on the erasure's batch (the
// audit record, and a call's idempotency record).
func (s *Service) erase(ctx context.Context, tx pgx.Tx, e vault.Erasure, caseID string, also func(*pgx.Batch, *intakev1.Erasure) error) (*intakev1.Erasure, error) {
	b := &pgx.Batch{}
	previous, err := vault.Erasures(ctx, tx, e.Mission, []uuid.UUID{e.SubjectID})
	if err != nil {
		return nil, err
	}
	if first, ok := previous[e.SubjectID]; ok {
		out := erasureToProto(first)
		if also != nil {
			if err := also(b, out); err != nil {
				return nil, err
			}
			return out, tx.SendBatch(ctx, b).Close()
		}
		return out, nil
	}
	out := erasureToProto(e)
	vault.QueueErase(b, e)
	aggregate := e.SubjectID
	if caseID != "" {
		aggregate = uuid.MustParse(caseID)
	}
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: producer, AggregateID: aggregate, Mission: e.Mission,
		Payload: &intakev1.PersonErased{Erasure: out, CaseId: caseID}}}); err != nil {
		return nil, err
	}
	st.Queue(b)
	if also != nil {
		if err := also(b, out); err != nil {
			return nil, err
		}
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("erase: %w", err)
	}
	return out, nil
}

func isMember(c *intakev1.Case, subject uuid.UUID) bool {
	for _, m := range append([]*intakev1.CaseMember{c.Principal}, c.HouseholdMembers...) {
		if m.GetSubjectId() == subject.String() {
			return true
		}
	}
	return false
}

func erasureToProto(e vault.Erasure) *intakev1.Erasure {
	return &intakev1.Erasure{
		SubjectId: e.SubjectID.String(),
		Reason:    enumcode.Value[intakev1.ErasureReason](e.Reason),
		EraseTime: timestamppb.New(e.At),
	}
}

// errNotErased is a person with neither a vault row nor an erasure record: it cannot happen
// (the database refuses to delete an identity without its erasure), so it is a bug to report.
var errNotErased = errors.New("a person has no identity and no erasure record")

// ErrUnknownSubject is a subject id with neither an identity nor an erasure in the mission.
var ErrUnknownSubject = errors.New("no such person in the mission")

// EraseSubject erases a person by subject id, outside any call: the operator's `passage
// erase`, for a request that reached the data protection officer rather than the mission.
// by names who asked (a staff id), for the record. Erasing a person already erased returns
// the first erasure.
func (s *Service) EraseSubject(ctx context.Context, mission string, subject uuid.UUID, reason intakev1.ErasureReason, by string) (*intakev1.Erasure, error) {
	if reason == intakev1.ErasureReason_ERASURE_REASON_UNSPECIFIED || intakev1.ErasureReason_name[int32(reason)] == "" {
		return nil, errors.New("an erasure needs a reason")
	}
	if by == "" {
		return nil, errors.New("an erasure needs the staff id of who asked for it")
	}
	var out *intakev1.Erasure
	err := s.db.MissionTx(ctx, mission, func(tx pgx.Tx) error {
		// Lock the person's cases, as ErasePerson locks the case it goes through, so that
		// two erasures of one person never both write.
		if _, err := tx.Exec(ctx, `SELECT FROM intake."case" c JOIN intake.case_member m ON m.case_id = c.case_id
WHERE m.subject_id = $1 AND c.mission = $2 FOR UPDATE OF c`, subject, mission); err != nil {
			return err
		}
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM vault.identity WHERE subject_id = $1 AND mission = $2)`,
			subject, mission).Scan(&known); err != nil {
			return err
		}
		if !known {
			previous, err := vault.Erasures(ctx, tx, mission, []uuid.UUID{subject})
			if err != nil {
				return err
			}
			first, ok := previous[subject]
			if !ok {
				return ErrUnknownSubject
			}
			out = erasureToProto(first)
			return nil
		}
		var err error
		e := vault.Erasure{SubjectID: subject, Mission: mission, Reason: enumcode.Code(reason), By: by, At: s.clock()}
		out, err = s.erase(ctx, tx, e, "", operatorAudit(e, "erase"))
		return err
	})
	return out, err
}

// operatorAudit queues the audit record of an erasure made outside any call: by the retention
// job, or by an operator's `passage erase` (command is the passage subcommand). The actor is
// who asked (vault.ErasedByRetention for the job), the aggregate the person's subject id.
func operatorAudit(e vault.Erasure, command string) func(*pgx.Batch, *intakev1.Erasure) error {
	return func(b *pgx.Batch, _ *intakev1.Erasure) error {
		var st database.Statement
		audit.Add(&st, []audit.Entry{{Mission: e.Mission, Actor: e.By, Role: "operator", CallerMission: e.Mission,
			Method: "passage " + command, AggregateID: e.SubjectID, Reason: e.Reason}})
		st.Queue(b)
		return nil
	}
}
