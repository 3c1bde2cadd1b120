package ageband

import (
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/date"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

func TestAt(t *testing.T) {
	t.Parallel()
	at := time.Date(2015, 6, 30, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		dob  *date.Date
		want commonv1.AgeBand
	}{
		{"unknown", nil, commonv1.AgeBand_AGE_BAND_UNKNOWN},
		{"newborn", &date.Date{Year: 2015, Month: 6, Day: 1}, commonv1.AgeBand_AGE_BAND_0_8},
		{"eight", &date.Date{Year: 2007, Month: 1, Day: 1}, commonv1.AgeBand_AGE_BAND_0_8},
		{"turns nine tomorrow", &date.Date{Year: 2006, Month: 7, Day: 1}, commonv1.AgeBand_AGE_BAND_0_8},
		{"nine today", &date.Date{Year: 2006, Month: 6, Day: 30}, commonv1.AgeBand_AGE_BAND_9_17},
		{"seventeen", &date.Date{Year: 1997, Month: 12, Day: 31}, commonv1.AgeBand_AGE_BAND_9_17},
		{"eighteen", &date.Date{Year: 1997, Month: 6, Day: 30}, commonv1.AgeBand_AGE_BAND_18_20},
		{"twenty-five", &date.Date{Year: 1990, Month: 1, Day: 1}, commonv1.AgeBand_AGE_BAND_24_26},
		{"thirty-eight", &date.Date{Year: 1977, Month: 1, Day: 1}, commonv1.AgeBand_AGE_BAND_30_38},
		{"forty-eight", &date.Date{Year: 1967, Month: 1, Day: 1}, commonv1.AgeBand_AGE_BAND_48_PLUS},
		// Year alone is taken at 1 July: on 30 June 2015 someone born "1997" is 17.
		{"year only, before mid-year", &date.Date{Year: 1997}, commonv1.AgeBand_AGE_BAND_9_17},
		// Year and month is taken at the 15th: June 1997 gives 18 on 30 June 2015.
		{"year and month", &date.Date{Year: 1997, Month: 6}, commonv1.AgeBand_AGE_BAND_18_20},
		{"born after the day", &date.Date{Year: 2016, Month: 1, Day: 1}, commonv1.AgeBand_AGE_BAND_0_8},
	}
	for _, tt := range tests {
		if got := At(tt.dob, at); got != tt.want {
			t.Errorf("%s: At = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestIsChild(t *testing.T) {
	t.Parallel()
	if !IsChild(commonv1.AgeBand_AGE_BAND_9_17) || IsChild(commonv1.AgeBand_AGE_BAND_18_20) || IsChild(commonv1.AgeBand_AGE_BAND_UNKNOWN) {
		t.Error("IsChild misclassifies bands")
	}
}
