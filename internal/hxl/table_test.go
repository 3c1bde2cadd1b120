package hxl

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// The dimensions and measures the analytics contract names (API.md, issue 5); each must have
// a tag, and every tag Table can make must be well-formed HXL.
func TestMappingIsCompleteAndValid(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"YEAR", "PROGRAMME", "NATIONALITY", "HOST_COUNTRY", "HOST_REGION",
		"RETURN_COUNTRY", "RETURN_REGION", "VULNERABILITY", "EXPLOITATION_TYPE", "ASSISTANCE_TYPE"} {
		if tag := TagFor(d); !ValidTag(tag) {
			t.Errorf("TagFor(%s) = %q, not a valid hashtag", d, tag)
		}
		if TagFor("DIMENSION_"+d) != TagFor(d) {
			t.Errorf("TagFor(DIMENSION_%s) differs from TagFor(%s)", d, d)
		}
		if n := NameTagFor(d); n != "" && !ValidTag(n) {
			t.Errorf("NameTagFor(%s) = %q, not a valid hashtag", d, n)
		}
	}
	for _, d := range []string{"SEX", "AGE_BAND", "NOT_A_DIMENSION"} {
		if tag := TagFor(d); tag != "" {
			t.Errorf("TagFor(%s) = %q, want \"\"", d, tag)
		}
	}
	for _, m := range []string{"CASES_REGISTERED", "PERSONS_RETURNED", "PERSONS_ASSISTED", "VICTIMS_IDENTIFIED",
		"HASM_REQUESTS_APPROVED", "HASM_REQUESTS_REJECTED"} {
		tag := MeasureTag("MEASURE_" + m)
		if !ValidTag(tag) || tag != MeasureTag(m) {
			t.Errorf("MeasureTag(%s) = %q", m, tag)
		}
		for _, d := range []string{"SEX", "AGE_BAND"} {
			for _, a := range dimensions[d].attrs {
				if !ValidTag(tag+"+"+a.attr) || !ValidTag(suppressedTag+"+"+a.attr) {
					t.Errorf("%s with %s attribute %q is not a valid hashtag", m, d, a.attr)
				}
			}
		}
	}
	// Every sex and age band code the contract has is laid out.
	for name, values := range map[string]map[string]int32{"SEX": commonv1.Sex_value, "AGE_BAND": commonv1.AgeBand_value} {
		for v := range values {
			code := strings.TrimPrefix(v, name+"_")
			if code == "UNSPECIFIED" {
				continue
			}
			if _, ok := AttributeFor(name, code); !ok {
				t.Errorf("no attribute for %s %s", name, code)
			}
		}
	}
	if a, ok := AttributeFor("DIMENSION_SEX", "FEMALE"); !ok || a != "f" {
		t.Errorf("AttributeFor(DIMENSION_SEX, FEMALE) = %q, %v; want f", a, ok)
	}
}

// The seed's AVRR figure as HDX would take it: persons returned by host region and sex, one
// count suppressed, one combination without a cell.
func TestTableReturnsBySexAndHostRegion(t *testing.T) {
	t.Parallel()
	cells := []Cell{
		{Keys: []string{"MENA", "MALE"}, Count: 4300},
		{Keys: []string{"EEA", "FEMALE"}, Count: 13370},
		{Keys: []string{"EEA", "MALE"}, Count: 42342},
		{Keys: []string{"CNAC", "FEMALE"}, Suppressed: true},
		{Keys: []string{"CNAC", "MALE"}, Suppressed: true},
		{Keys: []string{"MENA", "FEMALE"}, Count: 1415},
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, "MEASURE_PERSONS_RETURNED", []string{"DIMENSION_HOST_REGION", "DIMENSION_SEX"}, cells); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"Host region,\"Persons returned, female\",\"Persons returned, female, suppressed\",\"Persons returned, male\",\"Persons returned, male, suppressed\"",
		"#region+code+host,#reached+ind+returnees+f,#meta+suppressed+f,#reached+ind+returnees+m,#meta+suppressed+m",
		"CNAC,,true,,true",
		"EEA,13370,,42342,",
		"MENA,1415,,4300,",
		"",
	}, "\n")
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTableTwoAttributesAndZeros(t *testing.T) {
	t.Parallel()
	cols, rows, err := Table("VICTIMS_IDENTIFIED", []string{"YEAR", "AGE_BAND", "SEX"}, []Cell{
		{Keys: []string{"2016", "48_PLUS", "FEMALE"}, Count: 12},
		{Keys: []string{"2015", "0_8", "MALE"}, Count: 20},
		{Keys: []string{"2015", "48_PLUS", "FEMALE"}, Count: 30},
	})
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, c := range cols {
		tags = append(tags, c.Tag)
	}
	wantTags := []string{"#date+year",
		"#affected+ind+trafficking+age0_8+m", "#meta+suppressed+age0_8+m",
		"#affected+ind+trafficking+age48plus+f", "#meta+suppressed+age48plus+f"}
	if diff := cmp.Diff(wantTags, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	wantRows := [][]string{{"2015", "20", "", "30", ""}, {"2016", "0", "", "12", ""}}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if cols[1].Header != "Victims of trafficking identified, aged 0-8, male" {
		t.Errorf("header %q", cols[1].Header)
	}
}

// What HXL validators require of a number column (libhxl's default schema marks #reached,
// #affected, #targeted and #indicator+num "always a number"): digits, or empty.
func TestTableCountColumnsAreNumbersOrEmpty(t *testing.T) {
	t.Parallel()
	number := regexp.MustCompile(`^[0-9]*$`)
	cols, rows, err := Table("PERSONS_RETURNED", []string{"RETURN_COUNTRY", "SEX"}, []Cell{
		{Keys: []string{"IRQ", "FEMALE"}, Suppressed: true, Count: 7},
		{Keys: []string{"IRQ", "MALE"}, Count: 112},
		{Keys: []string{"AFG", "OTHER"}, Count: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cols {
		if !strings.HasPrefix(c.Tag, "#reached") {
			continue
		}
		for _, r := range rows {
			if !number.MatchString(r[i]) {
				t.Errorf("column %s holds %q", c.Tag, r[i])
			}
		}
	}
	for _, r := range rows {
		if slices.Contains(r, "7") {
			t.Errorf("a suppressed count was written: %v", r)
		}
	}
}

func TestTableRefuses(t *testing.T) {
	t.Parallel()
	one := []Cell{{Keys: []string{"NER"}, Count: 3}}
	tests := []struct {
		name    string
		measure string
		dims    []string
		cells   []Cell
	}{
		{"unknown measure", "PERSONS_NAMED", []string{"HOST_COUNTRY"}, one},
		{"unknown dimension", "PERSONS_RETURNED", []string{"GIVEN_NAME"}, one},
		{"dimension twice", "PERSONS_RETURNED", []string{"HOST_COUNTRY", "DIMENSION_HOST_COUNTRY"},
			[]Cell{{Keys: []string{"NER", "NER"}, Count: 3}}},
		{"too few keys", "PERSONS_RETURNED", []string{"HOST_COUNTRY", "YEAR"}, one},
		{"total", "PERSONS_RETURNED", []string{"HOST_COUNTRY"}, []Cell{{Keys: []string{""}, Count: 3}}},
		{"unknown sex", "PERSONS_RETURNED", []string{"SEX"}, []Cell{{Keys: []string{"F"}, Count: 3}}},
		{"repeated keys", "PERSONS_RETURNED", []string{"HOST_COUNTRY"}, append(one, one[0])},
		{"negative", "PERSONS_RETURNED", []string{"HOST_COUNTRY"}, []Cell{{Keys: []string{"NER"}, Count: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := WriteTable(&buf, tt.measure, tt.dims, tt.cells); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q", buf.String())
			}
		})
	}
}

func TestTableWithoutCells(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteTable(&buf, "CASES_REGISTERED", []string{"SEX"}, nil); err != nil {
		t.Fatal(err)
	}
	want := "Cases registered,\"Cases registered, suppressed\"\n#targeted+ind+registered,#meta+suppressed\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
