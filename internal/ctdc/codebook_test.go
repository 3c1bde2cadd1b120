package ctdc

import (
	"strings"
	"testing"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// TestCodebookCoversEveryEnumValue fails when a value is added to one of the contracts' enums
// without a CTDC mapping, or when the codebook maps a code the contracts do not have.
func TestCodebookCoversEveryEnumValue(t *testing.T) {
	t.Parallel()
	check := func(name string, values map[string]int32, prefix string, has func(string) bool, size int) {
		t.Helper()
		n := 0
		for v := range values {
			code := strings.TrimPrefix(v, prefix)
			if code == "UNSPECIFIED" {
				continue
			}
			n++
			if !has(code) {
				t.Errorf("%s code %s has no CTDC mapping", name, code)
			}
		}
		if n != size {
			t.Errorf("%s: codebook maps %d codes, the enum has %d", name, size, n)
		}
	}
	check("Sex", commonv1.Sex_value, "SEX_", func(c string) bool { _, ok := genders[c]; return ok }, len(genders))
	check("AgeBand", commonv1.AgeBand_value, "AGE_BAND_", func(c string) bool { _, ok := ageBands[c]; return ok }, len(ageBands))
	check("ExploitationType", traffickingv1.ExploitationType_value, "EXPLOITATION_TYPE_",
		func(c string) bool { _, ok := exploitationFlags[c]; return ok }, len(exploitationFlags))
	check("MeansOfControl", traffickingv1.MeansOfControl_value, "MEANS_OF_CONTROL_",
		func(c string) bool { _, ok := controlBit[c]; return ok }, len(controlBit))
}

func TestColumnsAreNamedOnce(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i, c := range Columns {
		if c == "" {
			t.Errorf("column %d has no name", i)
		}
		if seen[c] {
			t.Errorf("column %s appears twice", c)
		}
		seen[c] = true
	}
}
