package ageband

import (
	"time"

	"google.golang.org/genproto/googleapis/type/date"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// bands are the CTDC broad age groups, by their lowest age.
var bands = []struct {
	from int
	band commonv1.AgeBand
}{
	{48, commonv1.AgeBand_AGE_BAND_48_PLUS},
	{39, commonv1.AgeBand_AGE_BAND_39_47},
	{30, commonv1.AgeBand_AGE_BAND_30_38},
	{27, commonv1.AgeBand_AGE_BAND_27_29},
	{24, commonv1.AgeBand_AGE_BAND_24_26},
	{21, commonv1.AgeBand_AGE_BAND_21_23},
	{18, commonv1.AgeBand_AGE_BAND_18_20},
	{9, commonv1.AgeBand_AGE_BAND_9_17},
	{0, commonv1.AgeBand_AGE_BAND_0_8},
}

// At returns the age band of a person born on dob, on the day at. A missing date of birth
// gives AGE_BAND_UNKNOWN. A partial date is taken at the middle of its period (1 July for a
// year alone, the 15th for a year and month), the usual demographic convention.
func At(dob *date.Date, at time.Time) commonv1.AgeBand {
	if dob == nil || dob.GetYear() == 0 {
		return commonv1.AgeBand_AGE_BAND_UNKNOWN
	}
	age := Age(dob, at)
	for _, b := range bands {
		if age >= b.from {
			return b.band
		}
	}
	return commonv1.AgeBand_AGE_BAND_0_8
}

// Age returns completed years between dob and at, with partial dates as in At.
func Age(dob *date.Date, at time.Time) int {
	month, day := int(dob.GetMonth()), int(dob.GetDay())
	switch {
	case month == 0:
		month, day = 7, 1
	case day == 0:
		day = 15
	}
	y, m, d := at.UTC().Date()
	age := y - int(dob.GetYear())
	if int(m) < month || (int(m) == month && d < day) {
		age--
	}
	if age < 0 {
		return 0
	}
	return age
}

// IsChild reports whether a band lies wholly under 18.
func IsChild(b commonv1.AgeBand) bool {
	return b == commonv1.AgeBand_AGE_BAND_0_8 || b == commonv1.AgeBand_AGE_BAND_9_17
}
