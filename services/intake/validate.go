package intake

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/passage-cm/passage/internal/ageband"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/country"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/rpcerr"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// The rules here are the ones protovalidate cannot state: country codes against ISO 3166-1,
// dates against today, rules across fields. Each violation names the field, never its value.

func checkCountry(v *rpcerr.Violations, field, c string, required bool) {
	switch {
	case c == "" && !required:
	case c == "":
		v.Add(field, "is required")
	case !country.Valid(c):
		v.Add(field, "must be an assigned ISO 3166-1 alpha-3 country code")
	}
}

func checkDate(v *rpcerr.Violations, field string, err error) {
	if err != nil {
		v.Add(field, err.Error())
	}
}

func checkPerson(v *rpcerr.Violations, path string, p *commonv1.Person, today time.Time) {
	if p == nil {
		v.Add(path, "is required")
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

// checkConsents applies the consent rules to the consents of a new case. At registration the
// people's subject ids do not exist yet, so every consent is the principal applicant's and
// subject_id must be empty; OpenCase may name any of the new case's people (openConsents
// checks which).
func checkConsents(v *rpcerr.Violations, consents []*commonv1.Consent, today time.Time, registration bool) {
	for i, c := range consents {
		field := fmt.Sprintf("consents[%d]", i)
		checkConsent(v, field, c, today)
		if registration && c.GetSubjectId() != "" {
			v.Add(field+".subject_id", "must be empty at registration: the consents are the principal applicant's")
		}
	}
}

// checkConsent applies the rules protovalidate cannot state to one consent record.
func checkConsent(v *rpcerr.Violations, field string, c *commonv1.Consent, today time.Time) {
	err := civildate.CheckFull(c.GetDate())
	if err == nil {
		err = civildate.NotAfter(c.GetDate(), today)
	}
	checkDate(v, field+".date", err)
	sharing := c.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING
	partner, category := c.GetPartner() != "", c.GetPartnerCategory() != commonv1.PartnerCategory_PARTNER_CATEGORY_UNSPECIFIED
	switch {
	case sharing && !partner && !category:
		v.Add(field+".partner", "a partner or a partner_category is required for data sharing consent")
	case sharing && partner && category:
		v.Add(field+".partner_category", "must be unset when a partner is named")
	case !sharing && partner:
		v.Add(field+".partner", "is only for data sharing consent")
	case !sharing && category:
		v.Add(field+".partner_category", "is only for data sharing consent")
	}
	basis := c.GetLegalBasis()
	if c.GetGranted() && basis != commonv1.LegalBasis_LEGAL_BASIS_UNSPECIFIED && basis != commonv1.LegalBasis_LEGAL_BASIS_CONSENT {
		v.Add(field+".granted", "must be false when legal_basis is not CONSENT: the processing rests on the legal basis")
	}
}

// checkRegistration applies the business rules to a request that passed protovalidate.
func checkRegistration(req *intakev1.RegisterCaseRequest, today time.Time) error {
	var v rpcerr.Violations
	checkCountry(&v, "host_country", req.GetHostCountry(), true)
	checkPerson(&v, "principal", req.GetPrincipal(), today)
	for i, m := range req.GetHouseholdMembers() {
		checkPerson(&v, fmt.Sprintf("household_members[%d]", i), m, today)
	}
	checkConsents(&v, req.GetConsents(), today, true)
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
	return v.Err()
}

// checkUnaccompaniedChild refuses the UMC vulnerability for a principal known to be an adult.
func checkUnaccompaniedChild(v *rpcerr.Violations, vs []commonv1.Vulnerability, principal *commonv1.Person, at time.Time) {
	checkUnaccompaniedChildBand(v, vs, ageband.At(principal.GetDateOfBirth(), at))
}

// checkUnaccompaniedChildBand is checkUnaccompaniedChild for a principal's coded age band.
func checkUnaccompaniedChildBand(v *rpcerr.Violations, vs []commonv1.Vulnerability, band commonv1.AgeBand) {
	if !slices.Contains(vs, commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD) {
		return
	}
	if band != commonv1.AgeBand_AGE_BAND_UNKNOWN && !ageband.IsChild(band) {
		v.Add("vulnerabilities", "an unaccompanied migrant child must be under 18 at registration")
	}
}

// newConsents turns the consents of a new case's request into its first records: each with
// an id, the recording caseworker, its person (the principal when unnamed) and its legal
// basis spelled out, and in_force derived.
func newConsents(in []*commonv1.Consent, by, principal string) []*commonv1.Consent {
	out := make([]*commonv1.Consent, len(in))
	for i, c := range in {
		out[i] = newRecord(c, by)
		if out[i].SubjectId == "" {
			out[i].SubjectId = principal
		}
	}
	consent.Derive(out)
	return out
}

// newRecord copies a requested consent record with what the server decides: its id, who
// recorded it, the default legal basis; output-only fields the client sent are dropped.
func newRecord(c *commonv1.Consent, by string) *commonv1.Consent {
	x := proto.CloneOf(c)
	x.ConsentId = uuid.NewString()
	x.RecordedBy = by
	if x.LegalBasis == commonv1.LegalBasis_LEGAL_BASIS_UNSPECIFIED {
		x.LegalBasis = commonv1.LegalBasis_LEGAL_BASIS_CONSENT
	}
	x.Withdrawal = nil
	x.InForce = false
	return x
}

// requireAssistance refuses a new case whose principal applicant's assistance is not allowed
// by its consents (consent granted, or a legal basis).
func requireAssistance(records []*commonv1.Consent, principal string) error {
	if !consent.Allowed(records, principal, commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE) {
		return &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE}
	}
	return nil
}
