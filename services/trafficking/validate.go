package trafficking

import (
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/ageband"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/country"
	"github.com/passage-cm/passage/internal/rpcerr"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// The rules here are the ones protovalidate cannot state: country codes against ISO 3166-1,
// dates and years against today, rules across fields. Each violation names the field, never
// its value.

// checkDay checks a full date that must not be in the future.
func checkDay(v *rpcerr.Violations, field string, d *date.Date, today time.Time) {
	err := civildate.CheckFull(d)
	if err == nil {
		err = civildate.NotAfter(d, today)
	}
	if err != nil {
		v.Add(field, err.Error())
	}
}

// checkYear checks a year that may be zero (unknown).
func checkYear(v *rpcerr.Violations, field string, year int32, today time.Time) {
	switch {
	case year == 0:
	case year < civildate.MinYear:
		v.Add(field, fmt.Sprintf("must be %d or later", civildate.MinYear))
	case int(year) > today.Year():
		v.Add(field, "must not be in the future")
	}
}

func checkExploitation(e *traffickingv1.Exploitation, today time.Time) error {
	var v rpcerr.Violations
	for i, c := range e.GetCountriesOfExploitation() {
		if !country.Valid(c) {
			v.Add(fmt.Sprintf("exploitation.countries_of_exploitation[%d]", i), "must be an assigned ISO 3166-1 alpha-3 country code")
		}
	}
	checkYear(&v, "exploitation.start_year", e.GetStartYear(), today)
	checkYear(&v, "exploitation.end_year", e.GetEndYear(), today)
	if e.GetStartYear() != 0 && e.GetEndYear() != 0 && e.GetEndYear() < e.GetStartYear() {
		v.Add("exploitation.end_year", "must not be before start_year")
	}
	return v.Err()
}

// checkChildAtExploitation refuses an exploitation of an adult for a principal who is a
// child now: they were a child when exploited too.
func checkChildAtExploitation(e *traffickingv1.Exploitation, principal commonv1.AgeBand) error {
	if ageband.IsChild(principal) && !e.GetChildAtExploitation() {
		var v rpcerr.Violations
		v.Add("exploitation.child_at_exploitation", "must be true: the principal is a child")
		return v.Err()
	}
	return nil
}

func checkAssistance(req *traffickingv1.RecordAssistanceRequest, today time.Time) error {
	var v rpcerr.Violations
	checkDay(&v, "start_date", req.GetStartDate(), today)
	if end := req.GetEndDate(); end != nil {
		checkDay(&v, "end_date", end, today)
		if len(v) == 0 && civildate.ToTime(end).Before(civildate.ToTime(req.GetStartDate())) {
			v.Add("end_date", "must not be before start_date")
		}
	}
	return v.Err()
}

func checkRisk(req *traffickingv1.AssessRiskRequest, today time.Time) error {
	var v rpcerr.Violations
	checkDay(&v, "date", req.GetDate(), today)
	if req.GetLevel() != traffickingv1.RiskLevel_RISK_LEVEL_LOW && len(req.GetFactors()) == 0 {
		v.Add("factors", "at least one is required for a medium or high risk")
	}
	return v.Err()
}

func checkDate(field string, d *date.Date, today time.Time) error {
	var v rpcerr.Violations
	checkDay(&v, field, d, today)
	return v.Err()
}
