package privacy

import (
	"errors"
	"fmt"
)

// ErrInvalid is what every refused argument is (errors.Is): the service maps it to
// INVALID_ARGUMENT, naming InvalidError.Field.
var ErrInvalid = errors.New("privacy: invalid argument")

// InvalidError names the argument at fault and why, never its value: a value could be
// anything a caller typed.
type InvalidError struct {
	// Field is the argument: "epsilon", "delta", "max_partitions_contributed", "partitions",
	// "consumer", "what", "at", "year" or "confidence".
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return "privacy: " + e.Field + " " + e.Reason }

// Is makes every InvalidError an ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

// ErrBudgetExhausted refuses a release that would take a consumer past its yearly budget.
// The service maps it to RESOURCE_EXHAUSTED. Spend returns it wrapped in an *ExhaustedError.
var ErrBudgetExhausted = errors.New("privacy: the consumer's yearly privacy budget is spent")

// ExhaustedError is a refused spend: what the year had left and what was asked. Nothing was
// recorded.
type ExhaustedError struct {
	Year      int
	Budget    float64
	Spent     float64
	Requested float64
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("%v: %d: %g of %g spent, %g asked", ErrBudgetExhausted, e.Year, e.Spent, e.Budget, e.Requested)
}

// Remaining is what the consumer may still spend this year.
func (e *ExhaustedError) Remaining() float64 { return max(0, e.Budget-e.Spent) }

func (e *ExhaustedError) Unwrap() error { return ErrBudgetExhausted }

// ErrNoCaller refuses a spend outside an authenticated call: a spend is a mutation, and its
// audit record needs the caller.
var ErrNoCaller = errors.New("privacy: no authenticated caller to audit the spend")
