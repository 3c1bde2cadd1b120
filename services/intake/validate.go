package intake

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/passage-cm/passage/internal/ageband"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/country"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/middleware"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// The rules here are the ones protovalidate cannot state: country codes against ISO 3166-1,
// dates against today, rules across fields. Each violation names the field, never its value.

type violations []*errdetails.BadRequest_FieldViolation

func (v *violations) add(field, description string) {
	*v = append(*v, middleware.FieldViolation(field, description))
}

func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	return middleware.InvalidArgument(v...)
}

func checkCountry(v *violations, field, c string, required bool) {
	switch {
	case c == "" && !required:
	case c == "":
		v.add(field, "is required")
	case !country.Valid(c):
		v.add(field, "must be an assigned ISO 3166-1 alpha-3 country code")
	}
}

func checkDate(v *violations, field string, err error) {
	if err != nil {
		v.add(field, err.Error())
	}
}

func checkPerson(v *violations, path string, p *commonv1.Person, today time.Time) {
	if p == nil {
		v.add(path, "is required")
		return
	}
	if dob := p.GetDateOfBirth(); dob != nil {
		err := civildate.Check(dob)
		if err == nil {
			err = civildate.NotAfter(dob, today)
		}
		checkDate(v, path+".date_of_birth", err)
	}
	checkCountry(v, path+".nationality", p.GetNationality(), false)
	for i, d := range p.GetDocuments() {
		checkCountry(v, fmt.Sprintf("%s.documents[%d].issuing_country", path, i), d.GetIssuingCountry(), true)
	}
}

func checkConsents(v *violations, consents []*commonv1.Consent, today time.Time) {
	for i, c := range consents {
		field := fmt.Sprintf("consents[%d]", i)
		err := civildate.CheckFull(c.GetDate())
		if err == nil {
			err = civildate.NotAfter(c.GetDate(), today)
		}
		checkDate(v, field+".date", err)
		switch {
		case c.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING && c.GetPartner() == "":
			v.add(field+".partner", "is required for data sharing consent")
		case c.GetPurpose() != commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING && c.GetPartner() != "":
			v.add(field+".partner", "is only for data sharing consent")
		}
	}
}

// checkRegistration applies the business rules to a request that passed protovalidate.
func checkRegistration(req *intakev1.RegisterCaseRequest, today time.Time) error {
	var v violations
	checkCountry(&v, "host_country", req.GetHostCountry(), true)
	checkPerson(&v, "principal", req.GetPrincipal(), today)
	for i, m := range req.GetHouseholdMembers() {
		checkPerson(&v, fmt.Sprintf("household_members[%d]", i), m, today)
	}
	checkConsents(&v, req.GetConsents(), today)
	registered := today
	if d := req.GetRegistrationDate(); d != nil {
		err := civildate.CheckFull(d)
		if err == nil {
			err = civildate.NotAfter(d, today)
		}
		checkDate(&v, "registration_date", err)
		if err == nil {
			registered = civildate.ToTime(d)
		}
	}
	checkUnaccompaniedChild(&v, req.GetVulnerabilities(), req.GetPrincipal(), registered)
	return v.err()
}

// checkUnaccompaniedChild refuses the UMC vulnerability for a principal known to be an adult.
func checkUnaccompaniedChild(v *violations, vs []commonv1.Vulnerability, principal *commonv1.Person, at time.Time) {
	checkUnaccompaniedChildBand(v, vs, ageband.At(principal.GetDateOfBirth(), at))
}

// checkUnaccompaniedChildBand is checkUnaccompaniedChild for a principal's coded age band.
func checkUnaccompaniedChildBand(v *violations, vs []commonv1.Vulnerability, band commonv1.AgeBand) {
	if !slices.Contains(vs, commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD) {
		return
	}
	if band != commonv1.AgeBand_AGE_BAND_UNKNOWN && !ageband.IsChild(band) {
		v.add("vulnerabilities", "an unaccompanied migrant child must be under 18 at registration")
	}
}

// requireConsent reports a MissingConsentError unless consents grant purpose.
func requireConsent(consents []*commonv1.Consent, purpose commonv1.ConsentPurpose) error {
	for _, c := range consents {
		if c.GetPurpose() == purpose && c.GetGranted() {
			return nil
		}
	}
	return &MissingConsentError{Purpose: enumcode.Code(purpose, purposePrefix)}
}
