package hasm

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/currency"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
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
	n := mutation.New{Who: who, Key: key, ID: uuid.MustParse(f.FundId), Mission: auth.MissionHQ, Resp: resp}
	err = s.creator.Create(ctx, n, func(b *pgx.Batch) (proto.Message, error) {
		queueInsertFund(b, f, who.Subject)
		return &hasmv1.FundCreated{Fund: f}, nil
	})
	switch {
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
	// The caller names a fund by code and year; Run changes it by its id.
	f, err := getFund(ctx, s.db.Mission(who.Mission), req.GetCode(), req.GetYear(), false)
	if err != nil {
		return nil, toStatus(err)
	}
	m := mutation.Mutation{Who: who, Key: key, Ref: f.FundId, Version: req.GetVersion(), Resp: resp}
	err = s.funds.Run(ctx, m, func(f *hasmv1.Fund, _ *mutation.Step) (proto.Message, error) {
		if req.GetBudget() < f.Committed {
			return nil, &BudgetBelowCommittedError{Code: f.Code, Year: f.Year, Committed: f.Committed}
		}
		previous := f.Budget
		f.Budget = req.GetBudget()
		f.Remaining = f.Budget - f.Committed
		resp.Fund = f
		return &hasmv1.FundBudgetSet{Fund: f, PreviousBudget: previous}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// fundKind describes a fund to mutation.Run: HQ's, recorded under the mission "HQ".
func (s *Service) fundKind() mutation.Kind[*hasmv1.Fund] {
	return mutation.Kind[*hasmv1.Fund]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse: uuid.Parse,
		Lock: func(ctx context.Context, tx pgx.Tx, _ auth.Claims, id uuid.UUID) (*hasmv1.Fund, error) {
			return scanFund(tx.QueryRow(ctx, `SELECT `+fundColumns+` FROM hasm.fund WHERE fund_id = $1 FOR UPDATE`, id))
		},
		Version: (*hasmv1.Fund).GetVersion,
		Mission: func(*hasmv1.Fund) string { return auth.MissionHQ },
		Stale: func(_ string, f *hasmv1.Fund) error {
			return staleVersion(fundSubject(f.Code, f.Year), f.Version)
		},
		Save: func(f *hasmv1.Fund, st *mutation.Step) {
			f.Version, f.UpdateTime = st.Version, timestamppb.New(st.Now)
			queueUpdateFund(st.Batch, f)
		},
	}
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
