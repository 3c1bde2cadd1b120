package hasm

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/currency"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/rpcerr"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// Funds are HQ's: kept by programme managers and admins at HQ, recorded in the outbox under
// the mission "HQ".

// fundKeepers may create funds, set their budgets and read their balance.
var fundKeepers = []auth.Role{auth.RoleProgrammeManager, auth.RoleAdmin}

func requireFundKeeper(who auth.Claims) error {
	if !atHQ(who, fundKeepers...) {
		return status.Error(codes.PermissionDenied, "only programme managers and admins at HQ keep HASM funds")
	}
	return nil
}

// CreateFund opens a fund for a year with its budget.
func (s *Service) CreateFund(ctx context.Context, req *hasmv1.CreateFundRequest) (*hasmv1.CreateFundResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireFundKeeper(who); err != nil {
		return nil, err
	}
	if _, err := currency.ParseISO(req.GetCurrency()); err != nil {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("currency", "must be an ISO 4217 currency code"))
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), hasmv1.StrandedMigrantService_CreateFund_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &hasmv1.CreateFundResponse{}
	if replayed, err := s.idem.Replay(ctx, s.db.Mission(who.Mission), key, resp); replayed || err != nil {
		return resp, toStatus(err)
	}
	now := timestamppb.New(s.clock())
	f := &hasmv1.Fund{
		FundId:     uuid.NewString(),
		Code:       req.GetCode(),
		Year:       req.GetYear(),
		Currency:   req.GetCurrency(),
		Budget:     req.GetBudget(),
		Remaining:  req.GetBudget(),
		Version:    1,
		CreateTime: now,
		UpdateTime: now,
	}
	resp.Fund = f
	b := &pgx.Batch{}
	var st database.Statement
	if err := s.idem.Add(&st, []idempotency.Record{{Key: key, Response: resp}}); err != nil {
		return nil, err
	}
	audit.Add(&st, []audit.Entry{audit.For(ctx, who, auth.MissionHQ, uuid.MustParse(f.FundId)).WithClientRequest(key.RequestID)})
	if err := outbox.Add(&st, []outbox.Event{{Producer: producer, AggregateID: uuid.MustParse(f.FundId), Mission: auth.MissionHQ,
		Payload: &hasmv1.FundCreated{Fund: f}}}); err != nil {
		return nil, err
	}
	st.Queue(b)
	queueInsertFund(b, f, who.Subject)
	err = s.db.Mission(who.Mission).SendBatch(ctx, b).Close()
	switch err = s.idem.Settle(ctx, s.db.Mission(who.Mission), key, resp, err); {
	case err == nil:
		return resp, nil
	case database.IsUniqueViolation(err, "fund_code_year_key"):
		return nil, toStatus(errFundExists)
	}
	return nil, toStatus(fmt.Errorf("insert fund: %w", err))
}

// SetFundBudget changes a fund's budget if the fund is still at the version the caller read.
// The budget cannot fall below what approved requests already hold.
func (s *Service) SetFundBudget(ctx context.Context, req *hasmv1.SetFundBudgetRequest) (*hasmv1.SetFundBudgetResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireFundKeeper(who); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), hasmv1.StrandedMigrantService_SetFundBudget_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &hasmv1.SetFundBudgetResponse{}
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		f, err := getFund(ctx, tx, req.GetCode(), req.GetYear(), true)
		if err != nil {
			return err
		}
		if replayed, err := s.idem.Replay(ctx, tx, key, resp); replayed || err != nil {
			return err
		}
		if f.Version != req.GetVersion() {
			return staleVersion(fundSubject(f.Code, f.Year), f.Version)
		}
		if req.GetBudget() < f.Committed {
			return &BudgetBelowCommittedError{Code: f.Code, Year: f.Year, Committed: f.Committed}
		}
		previous := f.Budget
		f.Budget = req.GetBudget()
		f.Remaining = f.Budget - f.Committed
		f.Version++
		f.UpdateTime = timestamppb.New(s.clock())
		resp.Fund = f
		b := &pgx.Batch{}
		queueUpdateFund(b, f)
		var st database.Statement
		if err := outbox.Add(&st, []outbox.Event{{Producer: producer, AggregateID: uuid.MustParse(f.FundId), Mission: auth.MissionHQ,
			Payload: &hasmv1.FundBudgetSet{Fund: f, PreviousBudget: previous}}}); err != nil {
			return err
		}
		audit.Add(&st, []audit.Entry{audit.For(ctx, who, auth.MissionHQ, uuid.MustParse(f.FundId)).WithClientRequest(key.RequestID)})
		if err := s.idem.Add(&st, []idempotency.Record{{Key: key, Response: resp}}); err != nil {
			return err
		}
		st.Queue(b)
		return tx.SendBatch(ctx, b).Close()
	})
	if err := s.idem.Settle(ctx, s.db.Mission(who.Mission), key, resp, err); err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// GetFund reads a fund's budget, committed amount and remaining balance.
func (s *Service) GetFund(ctx context.Context, req *hasmv1.GetFundRequest) (*hasmv1.GetFundResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireFundKeeper(who); err != nil {
		return nil, err
	}
	f, err := getFund(ctx, s.db.Mission(who.Mission), req.GetCode(), req.GetYear(), false)
	if err != nil {
		return nil, toStatus(err)
	}
	return &hasmv1.GetFundResponse{Fund: f}, nil
}
