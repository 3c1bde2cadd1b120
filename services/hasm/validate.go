package hasm

import (
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/country"
	"github.com/passage-cm/passage/internal/rpcerr"
)

// The rules here are the ones protovalidate cannot state: codes against their standards,
// dates against today, rules across fields and against stored records. Each violation names
// the field, never its value.

type violations []*errdetails.BadRequest_FieldViolation

func (v *violations) add(field, description string) {
	*v = append(*v, rpcerr.FieldViolation(field, description))
}

func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	return rpcerr.InvalidArgument(v...)
}

func checkCountry(v *violations, field, c string) {
	if !country.Valid(c) {
		v.add(field, "must be an assigned ISO 3166-1 alpha-3 country code")
	}
}

// checkDay checks a full date that is not in the future.
func checkDay(v *violations, field string, d *date.Date, today time.Time) bool {
	err := civildate.CheckFull(d)
	if err == nil {
		err = civildate.NotAfter(d, today)
	}
	if err != nil {
		v.add(field, err.Error())
		return false
	}
	return true
}
