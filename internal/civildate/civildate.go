package civildate

import (
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
)

// Errors from Check. Their text names the rule, never the date.
var (
	ErrInvalid = errors.New("is not a valid calendar date")
	ErrPartial = errors.New("must be a full date (year, month and day)")
	ErrFuture  = errors.New("must not be in the future")
)

// MinYear is the earliest year Passage accepts in a date.
const MinYear = 1900

// Check reports whether d is a valid date, full or partial (month and day zero, or day zero).
func Check(d *date.Date) error {
	if d == nil {
		return ErrInvalid
	}
	y, m, day := int(d.GetYear()), int(d.GetMonth()), int(d.GetDay())
	switch {
	case y < MinYear || y > 9999 || m < 0 || m > 12 || day < 0:
		return ErrInvalid
	case m == 0 && day != 0:
		return ErrInvalid
	case day != 0 && day > daysIn(y, m):
		return ErrInvalid
	}
	return nil
}

// CheckFull is Check for a date that must carry year, month and day.
func CheckFull(d *date.Date) error {
	if err := Check(d); err != nil {
		return err
	}
	if d.GetMonth() == 0 || d.GetDay() == 0 {
		return ErrPartial
	}
	return nil
}

// NotAfter reports ErrFuture when the earliest day d can stand for is after today.
func NotAfter(d *date.Date, today time.Time) error {
	y, m, day := int(d.GetYear()), time.Month(d.GetMonth()), int(d.GetDay())
	if m == 0 {
		m = time.January
	}
	if day == 0 {
		day = 1
	}
	earliest := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	if earliest.After(Day(today)) {
		return ErrFuture
	}
	return nil
}

// Day truncates t to its calendar day in UTC.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ToTime returns a full date as midnight UTC. Partial dates get the first day of their
// period; use Check first.
func ToTime(d *date.Date) time.Time {
	m, day := time.Month(d.GetMonth()), int(d.GetDay())
	if m == 0 {
		m = time.January
	}
	if day == 0 {
		day = 1
	}
	return time.Date(int(d.GetYear()), m, day, 0, 0, 0, 0, time.UTC)
}

// FromTime returns t's calendar day in UTC.
func FromTime(t time.Time) *date.Date {
	y, m, d := t.UTC().Date()
	return &date.Date{Year: int32(y), Month: int32(m), Day: int32(d)}
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
