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

// caseFields set, for each coded field a profile may allow, that field of a shared case's
// view (dst) from the case (src). The principal is there before any of them runs.
var caseFields = map[handoverv1.HandoverField]func(dst, src *intakev1.Case){
	handoverv1.HandoverField_HANDOVER_FIELD_SEX:      func(d, s *intakev1.Case) { d.Principal.Sex = s.GetPrincipal().GetSex() },
	handoverv1.HandoverField_HANDOVER_FIELD_AGE_BAND: func(d, s *intakev1.Case) { d.Principal.AgeBand = s.GetPrincipal().GetAgeBand() },
	handoverv1.HandoverField_HANDOVER_FIELD_NATIONALITY: func(d, s *intakev1.Case) {
		d.Principal.Nationality = s.GetPrincipal().GetNationality()
	},
	handoverv1.HandoverField_HANDOVER_FIELD_HOST_COUNTRY:    func(d, s *intakev1.Case) { d.HostCountry = s.GetHostCountry() },
	handoverv1.HandoverField_HANDOVER_FIELD_VULNERABILITIES: func(d, s *intakev1.Case) { d.Vulnerabilities = s.GetVulnerabilities() },
	// The household by sex and age band, as HOUSEHOLD says: no nationality.
	handoverv1.HandoverField_HANDOVER_FIELD_HOUSEHOLD: func(d, s *intakev1.Case) {
		for _, m := range s.GetHouseholdMembers() {
			d.HouseholdMembers = append(d.HouseholdMembers,
				&intakev1.CaseMember{SubjectId: m.GetSubjectId(), Sex: m.GetSex(), AgeBand: m.GetAgeBand()})
		}
	},
}

// personFields set, for each field a profile may allow that a person's identity holds, that
// field of the shared identity (dst) from the vault's (src): the identity fields, and the coded
// ones the identity repeats (sex, nationality).
var personFields = map[handoverv1.HandoverField]func(dst, src *commonv1.Person){
	handoverv1.HandoverField_HANDOVER_FIELD_NAME: func(d, s *commonv1.Person) {
		d.GivenName, d.FamilyName = s.GetGivenName(), s.GetFamilyName()
	},
	handoverv1.HandoverField_HANDOVER_FIELD_DATE_OF_BIRTH: func(d, s *commonv1.Person) { d.DateOfBirth = s.GetDateOfBirth() },
	handoverv1.HandoverField_HANDOVER_FIELD_SEX:           func(d, s *commonv1.Person) { d.Sex = s.GetSex() },
	handoverv1.HandoverField_HANDOVER_FIELD_NATIONALITY:   func(d, s *commonv1.Person) { d.Nationality = s.GetNationality() },
	handoverv1.HandoverField_HANDOVER_FIELD_DOCUMENTS:     func(d, s *commonv1.Person) { d.Documents = s.GetDocuments() },
	handoverv1.HandoverField_HANDOVER_FIELD_PHONE:         func(d, s *commonv1.Person) { d.Phone = s.GetPhone() },
	handoverv1.HandoverField_HANDOVER_FIELD_ADDRESS:       func(d, s *commonv1.Person) { d.Address = s.GetAddress() },
}

// sharedView returns the fields of c that fields allow.
func sharedView(c *intakev1.Case, fields []handoverv1.HandoverField) *intakev1.Case {
	v := &intakev1.Case{
		CaseId: c.GetCaseId(), Mission: c.GetMission(), Programme: c.GetProgramme(), Status: c.GetStatus(),
		ClosureReason: c.GetClosureReason(), Version: c.GetVersion(), SubjectId: c.GetSubjectId(),
		Principal: &intakev1.CaseMember{SubjectId: c.GetPrincipal().GetSubjectId()},
	}
	for _, f := range fields {
		if set, ok := caseFields[f]; ok {
			set(v, c)
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

// sharedIdentity keeps, of each person's identity, the fields that fields allow; an erased
// person stays erased.
func sharedIdentity(id *intakev1.CaseIdentity, fields []handoverv1.HandoverField) *intakev1.CaseIdentity {
	person := func(p *commonv1.Person) *commonv1.Person {
		if p == nil {
			return nil
		}
		out := &commonv1.Person{}
		for _, f := range fields {
			if set, ok := personFields[f]; ok {
				set(out, p)
			}
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
