package attack_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// TestSQLInIdentity registers otherwise valid cases whose identity holds SQL in each free-text
// field of a person, where a caseworker would type a name or an address. Such a value is
// either refused by the field's rules or stored as the text it is: read back verbatim, the
// vault's tables still there, and exactly one case more.
func TestSQLInIdentity(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: specs()})
	client := intakev1.NewIntakeServiceClient(env.Conn)
	ctx := env.As(t, auth.RoleCaseworker, "DEU")
	const sql = `Haddad'); DELETE FROM vault.identity; --`

	fields := (&commonv1.Person{}).ProtoReflect().Descriptor().Fields()
	stored := 0
	// Subtests run in order: the count below sees them all.
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Kind() != protoreflect.StringKind || fd.IsList() {
			continue
		}
		t.Run(string(fd.Name()), func(t *testing.T) {
			principal := &commonv1.Person{GivenName: "Karim", FamilyName: "Haddad", Sex: commonv1.Sex_SEX_MALE,
				DateOfBirth: &date.Date{Year: 1988, Month: 4, Day: 2}, Nationality: "IRQ"}
			principal.ProtoReflect().Set(fd, protoreflect.ValueOfString(sql))
			before := env.Count(t, "intake.case")
			resp, err := client.RegisterCase(ctx, &intakev1.RegisterCaseRequest{
				RequestId: uuid.NewString(), Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "DEU",
				Principal: principal, RegistrationDate: &date.Date{Year: 2026, Month: 1, Day: 10},
				Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
					Date: &date.Date{Year: 2026, Month: 1, Day: 10}}},
			})
			if status.Code(err) == codes.InvalidArgument {
				t.Logf("refused: %v", err)
				if got := env.Count(t, "intake.case"); got != before {
					t.Fatalf("refused, yet cases went from %d to %d", before, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("RegisterCase: %v", err)
			}
			got, err := client.GetCase(ctx, &intakev1.GetCaseRequest{CaseId: resp.GetCase().GetCaseId(), View: intakev1.CaseView_CASE_VIEW_FULL,
				Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
			if err != nil {
				t.Fatalf("GetCase: %v", err)
			}
			if diff := cmp.Diff(principal, got.GetIdentity().GetPrincipal().GetPerson(), protocmp.Transform(),
				protocmp.IgnoreEmptyMessages()); diff != "" {
				t.Errorf("identity read back (-sent +got):\n%s", diff)
			}
			if n := env.Count(t, "intake.case"); n != before+1 {
				t.Errorf("cases went from %d to %d, want one more", before, n)
			}
			if env.Count(t, "vault.identity") == 0 {
				t.Error("the vault is empty")
			}
			stored++
		})
	}
	// Names and addresses are free text: if none took the value, the request was wrong and
	// nothing reached the database.
	if stored == 0 {
		t.Error("every registration was refused: the SQL never reached the database")
	}
}
