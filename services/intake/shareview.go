package intake

import (
	"slices"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// What a receiving mission sees of a shared case: the fields its hand-over's data profile
// allows (handoverv1.HandoverField), and what no profile needs to name because the hand-over
// itself carries it (the case's and the principal's ids, mission, programme) or because the
// receiver works by it (status, closure reason, version). Everything else stays unset: the
// registration date and times, the case it was opened from, the consent history and what is
// derived from it.

// sharedView returns the fields of c that fields allow.
func sharedView(c *intakev1.Case, fields []handoverv1.HandoverField) *intakev1.Case {
	allows := func(f handoverv1.HandoverField) bool { return slices.Contains(fields, f) }
	p := c.GetPrincipal()
	principal := &intakev1.CaseMember{SubjectId: p.GetSubjectId()}
	if allows(handoverv1.HandoverField_HANDOVER_FIELD_SEX) {
		principal.Sex = p.GetSex()
	}
	if allows(handoverv1.HandoverField_HANDOVER_FIELD_AGE_BAND) {
		principal.AgeBand = p.GetAgeBand()
	}
	if allows(handoverv1.HandoverField_HANDOVER_FIELD_NATIONALITY) {
		principal.Nationality = p.GetNationality()
	}
	v := &intakev1.Case{
		CaseId: c.GetCaseId(), Mission: c.GetMission(), Programme: c.GetProgramme(), Status: c.GetStatus(),
		ClosureReason: c.GetClosureReason(), Version: c.GetVersion(), SubjectId: c.GetSubjectId(),
		Principal: principal,
	}
	if allows(handoverv1.HandoverField_HANDOVER_FIELD_HOST_COUNTRY) {
		v.HostCountry = c.GetHostCountry()
	}
	if allows(handoverv1.HandoverField_HANDOVER_FIELD_VULNERABILITIES) {
		v.Vulnerabilities = c.GetVulnerabilities()
	}
	// The household by sex and age band, as HOUSEHOLD says: no nationality.
	if allows(handoverv1.HandoverField_HANDOVER_FIELD_HOUSEHOLD) {
		for _, m := range c.GetHouseholdMembers() {
			v.HouseholdMembers = append(v.HouseholdMembers,
				&intakev1.CaseMember{SubjectId: m.GetSubjectId(), Sex: m.GetSex(), AgeBand: m.GetAgeBand()})
		}
	}
	return v
}

// identityFields are the fields of a profile that are the vault's (migrations/000028's
// share_receiver_reads on vault.identity names the same codes: a profile without one of them
// opens no identity, in the database either).
var identityFields = []handoverv1.HandoverField{
	handoverv1.HandoverField_HANDOVER_FIELD_NAME, handoverv1.HandoverField_HANDOVER_FIELD_DATE_OF_BIRTH,
	handoverv1.HandoverField_HANDOVER_FIELD_PHONE, handoverv1.HandoverField_HANDOVER_FIELD_ADDRESS,
	handoverv1.HandoverField_HANDOVER_FIELD_DOCUMENTS,
}

// allowsIdentity reports whether fields allow any identity field.
func allowsIdentity(fields []handoverv1.HandoverField) bool {
	return slices.ContainsFunc(fields, func(f handoverv1.HandoverField) bool { return slices.Contains(identityFields, f) })
}

// sharedIdentity keeps, of each person's identity, the fields that fields allow (the coded
// ones the identity repeats, sex and nationality, too); an erased person stays erased.
func sharedIdentity(id *intakev1.CaseIdentity, fields []handoverv1.HandoverField) *intakev1.CaseIdentity {
	allows := func(f handoverv1.HandoverField) bool { return slices.Contains(fields, f) }
	person := func(p *commonv1.Person) *commonv1.Person {
		if p == nil {
			return nil
		}
		out := &commonv1.Person{}
		if allows(handoverv1.HandoverField_HANDOVER_FIELD_NAME) {
			out.GivenName, out.FamilyName = p.GetGivenName(), p.GetFamilyName()
		}
		if allows(handoverv1.HandoverField_HANDOVER_FIELD_DATE_OF_BIRTH) {
			out.DateOfBirth = p.GetDateOfBirth()
		}
		if allows(handoverv1.HandoverField_HANDOVER_FIELD_SEX) {
			out.Sex = p.GetSex()
		}
		if allows(handoverv1.HandoverField_HANDOVER_FIELD_NATIONALITY) {
			out.Nationality = p.GetNationality()
		}
		if allows(handoverv1.HandoverField_HANDOVER_FIELD_DOCUMENTS) {
			out.Documents = p.GetDocuments()
		}
		if allows(handoverv1.HandoverField_HANDOVER_FIELD_PHONE) {
			out.Phone = p.GetPhone()
		}
		if allows(handoverv1.HandoverField_HANDOVER_FIELD_ADDRESS) {
			out.Address = p.GetAddress()
		}
		return out
	}
	out := &intakev1.CaseIdentity{}
	for i, pi := range append([]*intakev1.PersonIdentity{id.GetPrincipal()}, id.GetHouseholdMembers()...) {
		v := &intakev1.PersonIdentity{SubjectId: pi.GetSubjectId(), Person: person(pi.GetPerson()), Erasure: pi.GetErasure()}
		if i == 0 {
			out.Principal = v
		} else {
			out.HouseholdMembers = append(out.HouseholdMembers, v)
		}
	}
	return out
}
