package casenote

import (
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/enumcode"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// Who reads which note. Intake decides who may read the case's identity at all (Cases): a
// caller it refuses reads no note. Among the others, a note's sensitivity narrows it:
//   - NORMAL: every one of them (the registering caseworker, the assigned staff, a
//     supervisor under a break-glass grant);
//   - RESTRICTED: the staff assigned to the case in the caller's mission, and supervisors;
//   - CONFIDENTIAL: supervisors only.
// Writing needs the caller to work on the case (a break-glass grant is for reading in an
// emergency, not for writing the record), and to be one who may read the sensitivity written:
// no one writes, nor moves a note to, a sensitivity they could not read back, so an edit never
// exposes a note to fewer eyes than its author's.

// mayRead reports whether a caller of role, whose access to the case intake granted (a), may
// read notes of sensitivity s.
func mayRead(a Access, role auth.Role, s casenotev1.Sensitivity) bool {
	switch s {
	case casenotev1.Sensitivity_SENSITIVITY_NORMAL:
		return true
	case casenotev1.Sensitivity_SENSITIVITY_RESTRICTED:
		return a.Assigned || role == auth.RoleSupervisor
	case casenotev1.Sensitivity_SENSITIVITY_CONFIDENTIAL:
		return role == auth.RoleSupervisor
	}
	return false
}

// readable is the codes of the sensitivities the caller may read, for a query's filter.
func readable(a Access, role auth.Role) []string {
	var out []string
	for v := range casenotev1.Sensitivity_name {
		s := casenotev1.Sensitivity(v)
		if s != casenotev1.Sensitivity_SENSITIVITY_UNSPECIFIED && mayRead(a, role, s) {
			out = append(out, enumcode.Code(s))
		}
	}
	slices.Sort(out)
	return out
}

// checkWrite refuses a write of a note of sensitivity s about subject by who, with access a.
func checkWrite(a Access, who auth.Claims, s casenotev1.Sensitivity, subject string) error {
	if !a.WorksOn {
		return status.Error(codes.PermissionDenied, "case_id: notes are written only by staff working on the case")
	}
	if !mayRead(a, who.Role, s) {
		return status.Errorf(codes.PermissionDenied, "sensitivity: %s is not a sensitivity you may read", enumcode.Code(s))
	}
	return a.RequireAssistance(subject)
}

// RequireAssistance refuses to read or write what is kept about the people of a case (its
// notes, its documents) whose ASSISTANCE consent is not in force, and to write it about a
// household member whose own consent refuses it (subject: empty for a read).
func (a Access) RequireAssistance(subject string) error {
	if !consent.AssistanceAllowed(a.Case) {
		return &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE}
	}
	if subject != "" && !consent.MemberAssistanceAllowed(a.Case, subject) {
		return &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, SubjectID: subject}
	}
	return nil
}
