package civildate

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    *date.Date
		want error
	}{
		{"full", &date.Date{Year: 1990, Month: 2, Day: 28}, nil},
		{"leap day", &date.Date{Year: 2000, Month: 2, Day: 29}, nil},
		{"year only", &date.Date{Year: 1985}, nil},
		{"year and month", &date.Date{Year: 1985, Month: 7}, nil},
		{"nil", nil, ErrInvalid},
		{"not a leap year", &date.Date{Year: 1900, Month: 2, Day: 29}, ErrInvalid},
		{"day without month", &date.Date{Year: 1990, Day: 3}, ErrInvalid},
		{"month 13", &date.Date{Year: 1990, Month: 13, Day: 1}, ErrInvalid},
		{"April 31", &date.Date{Year: 1990, Month: 4, Day: 31}, ErrInvalid},
		{"year zero", &date.Date{}, ErrInvalid},
		{"before 1900", &date.Date{Year: 1850, Month: 1, Day: 1}, ErrInvalid},
		{"negative", &date.Date{Year: 1990, Month: -1, Day: 1}, ErrInvalid},
	}
	for _, tt := range tests {
		if got := Check(tt.d); !errors.Is(got, tt.want) {
			t.Errorf("%s: Check = %v, want %v", tt.name, got, tt.want)
		}
	}
	if err := CheckFull(&date.Date{Year: 1985, Month: 7}); !errors.Is(err, ErrPartial) {
		t.Errorf("CheckFull(partial) = %v, want ErrPartial", err)
	}
}

func TestNotAfter(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		d    *date.Date
		want error
	}{
		{&date.Date{Year: 2026, Month: 11, Day: 26}, nil},
		{&date.Date{Year: 2026, Month: 11, Day: 27}, ErrFuture},
		{&date.Date{Year: 2026, Month: 11}, nil},
		{&date.Date{Year: 2026, Month: 12}, ErrFuture},
		{&date.Date{Year: 2026}, nil},
		{&date.Date{Year: 2027}, ErrFuture},
	}
	for _, tt := range tests {
		if got := NotAfter(tt.d, today); !errors.Is(got, tt.want) {
			t.Errorf("NotAfter(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}
