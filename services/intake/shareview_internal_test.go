package intake

import (
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/migrations"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// TestEveryProfileFieldIsShown: each field a hand-over profile may allow shows something of a
// shared case or of its people's identity (a field added to HandoverField and forgotten here
// would be allowed by HQ and silently never shown); the identity fields are the identity's;
// and the database's policy on vault.identity names the same identity fields as the server.
func TestEveryProfileFieldIsShown(t *testing.T) {
	values := handoverv1.HandoverField_HANDOVER_FIELD_UNSPECIFIED.Descriptor().Values()
	for i := range values.Len() {
		f := handoverv1.HandoverField(values.Get(i).Number())
		if f == handoverv1.HandoverField_HANDOVER_FIELD_UNSPECIFIED {
			continue
		}
		_, coded := caseFields[f]
		_, person := personFields[f]
		if !coded && !person {
			t.Errorf("%v shows nothing of a shared case", f)
		}
	}
	for _, f := range identityFields {
		if _, ok := personFields[f]; !ok {
			t.Errorf("identity field %v is not a person's", f)
		}
		if _, ok := caseFields[f]; ok {
			t.Errorf("identity field %v is also a coded field of the case", f)
		}
	}

	up, err := migrations.FS.ReadFile("000028_intake_case_share.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	array := "ARRAY['" + strings.Join(enumcode.Codes(identityFields), "', '") + "']"
	if !strings.Contains(string(up), array) {
		t.Errorf("migrations/000028 does not name the identity fields as %s", array)
	}
}
