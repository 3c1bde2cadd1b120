package hasm

import (
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/rpcerr"
)

const errorDomain = "passage.hasm.v1"

// Entities that are not there. A case or request of another mission is not found either, so
// that ids of other missions cannot be probed.
var (
	errCaseNotFound     = errors.New("case not found")
	errRequestNotFound  = errors.New("request not found")
	errFundNotFound     = errors.New("fund not found")
	errAlreadyRequested = errors.New("the mission already has an assistance request for the case")
	errFundExists       = errors.New("a fund with this code already exists for the year")
)

// FundInsufficientError is an approval the fund's remaining budget cannot cover.
type FundInsufficientError struct {
	Code      string
	Year      int32
	Currency  string
	Remaining int64
	Amount    int64
}

func (e *FundInsufficientError) Error() string {
	return fmt.Sprintf("fund %s/%d has %d %s remaining, less than the %d requested",
		e.Code, e.Year, e.Remaining, e.Currency, e.Amount)
}

// BudgetBelowCommittedError is a budget set below what approved requests already hold.
type BudgetBelowCommittedError struct {
	Code      string
	Year      int32
	Committed int64
}

func (e *BudgetBelowCommittedError) Error() string {
	return fmt.Sprintf("fund %s/%d has %d committed: the budget cannot be less", e.Code, e.Year, e.Committed)
}

// CaseClosedError is a change to a request whose intake case is closed.
type CaseClosedError struct {
	CaseID string
}

func (e *CaseClosedError) Error() string { return "the case is closed in intake" }

// staleVersion is a change made against a version of the record subject ("requests/<case
// id>", "funds/<code>/<year>") that is no longer current.
func staleVersion(subject string, current int64) error {
	return &rpcerr.StaleVersionError{Domain: errorDomain, What: "record", Subject: subject, Current: current}
}

// common maps the errors every service maps alike; toStatus asks it first.
var common = rpcerr.Mapper{Domain: errorDomain, Shared: intakecase.StatusOf}

// toStatus maps the service's domain errors to gRPC status errors, in one place. Errors it
// does not know are returned as they are: the error-masking middleware turns them into an
// INTERNAL status without their text.
func toStatus(err error) error {
	if st, ok := common.Map(err); ok {
		return st
	}
	// Alike in shape in every service, the cases below map only this service's own errors
	// (the errors all services share are common's, above).
	var (
		fund   *FundInsufficientError
		below  *BudgetBelowCommittedError
		closed *CaseClosedError
		moved  *handoverpart.Refusal
	)
	switch {
	case errors.Is(err, errCaseNotFound):
		return status.Error(codes.NotFound, errCaseNotFound.Error())
	case errors.Is(err, errRequestNotFound):
		return status.Error(codes.NotFound, errRequestNotFound.Error())
	case errors.Is(err, errFundNotFound):
		return status.Error(codes.NotFound, errFundNotFound.Error())
	case errors.Is(err, errAlreadyRequested):
		return status.Error(codes.AlreadyExists, errAlreadyRequested.Error())
	case errors.Is(err, errFundExists):
		return status.Error(codes.AlreadyExists, errFundExists.Error())
	case errors.As(err, &fund):
		return rpcerr.FailedPrecondition(errorDomain, "FUND_INSUFFICIENT", fund.Error(), map[string]string{
			"fund_code": fund.Code,
			"fund_year": strconv.Itoa(int(fund.Year)),
			"currency":  fund.Currency,
			"remaining": strconv.FormatInt(fund.Remaining, 10),
			"amount":    strconv.FormatInt(fund.Amount, 10),
		}, rpcerr.Violation("FUND", fundSubject(fund.Code, fund.Year), fund.Error()))
	case errors.As(err, &below):
		return rpcerr.FailedPrecondition(errorDomain, "BUDGET_BELOW_COMMITTED", below.Error(), map[string]string{
			"committed": strconv.FormatInt(below.Committed, 10),
		}, rpcerr.Violation("FUND", fundSubject(below.Code, below.Year), below.Error()))
	case errors.As(err, &moved):
		return moved.Status(errorDomain)
	case errors.As(err, &closed):
		return rpcerr.FailedPrecondition(errorDomain, "CASE_CLOSED", closed.Error(), nil,
			rpcerr.Violation("CASE", "cases/"+closed.CaseID, closed.Error()))
	}
	return err
}

func fundSubject(code string, year int32) string {
	return fmt.Sprintf("funds/%s/%d", code, year)
}

// isCaseNotFound reports a miss of the case projection.
func isCaseNotFound(err error) bool { return errors.Is(err, errCaseNotFound) }
