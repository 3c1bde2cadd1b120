package hasm

import (
	"time"

	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/country"
	"github.com/passage-cm/passage/internal/rpcerr"
)

// The rules here are the ones protovalidate cannot state: codes against their standards,
// dates against today, rules across fields and against stored records. Each violation names
// the field, never its value.

func checkCountry(v *rpcerr.Violations, field, c string) {
	if !country.Valid(c) {
		v.Add(field, "must be an assigned ISO 3166-1 alpha-3 country code")
	}
}

// checkDay checks a full date that is not in the future.
func checkDay(v *rpcerr.Violations, field string, d *date.Date, today time.Time) bool {
	err := civildate.CheckFull(d)
	if err == nil {
		err = civildate.NotAfter(d, today)
	}
	if err != nil {
		v.Add(field, err.Error())
		return false
	}
	return true
}
