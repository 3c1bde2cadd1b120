package hxl

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/internal/disclosure"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// Every dimension and measure of passage.analytics.v1 has a tag (so adding one to the contract
// without a tag fails here), and every tag Table can make is well-formed HXL.
func TestMappingIsCompleteAndValid(t *testing.T) {
	t.Parallel()
	for d := range analyticsv1.Dimension_value {
		if d == "DIMENSION_UNSPECIFIED" || d == "DIMENSION_SEX" || d == "DIMENSION_AGE_BAND" {
			continue
		}
		if tag := TagFor(d); !ValidTag(tag) {
			t.Errorf("TagFor(%s) = %q, not a valid hashtag", d, tag)
		}
		if TagFor(strings.TrimPrefix(d, "DIMENSION_")) != TagFor(d) {
			t.Errorf("TagFor without the prefix differs for %s", d)
		}
		if n := NameTagFor(d); n != "" && !ValidTag(n) {
			t.Errorf("NameTagFor(%s) = %q, not a valid hashtag", d, n)
		}
	}
	if len(dimensions) != len(analyticsv1.Dimension_value)-1 {
		t.Errorf("%d dimensions mapped, the contract has %d", len(dimensions), len(analyticsv1.Dimension_value)-1)
	}
	for _, d := range []string{"SEX", "AGE_BAND", "NOT_A_DIMENSION"} {
		if tag := TagFor(d); tag != "" {
			t.Errorf("TagFor(%s) = %q, want \"\"", d, tag)
		}
	}
	for m := range analyticsv1.Measure_value {
		if m == "MEASURE_UNSPECIFIED" {
			continue
		}
		tag := MeasureTag(m)
		if !ValidTag(tag) || tag != MeasureTag(strings.TrimPrefix(m, "MEASURE_")) {
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
		"Host region,Host region name,\"Persons returned, female\",\"Persons returned, female, suppressed\",\"Persons returned, male\",\"Persons returned, male, suppressed\"",
		"#region+code+host,#region+name+host,#reached+ind+returnees+f,#meta+suppressed+f,#reached+ind+returnees+m,#meta+suppressed+m",
		"CNAC,\"Central America, North America and the Caribbean\",,true,,true",
		"EEA,\"European Economic Area, Switzerland and the United Kingdom\",13370,,42342,",
		"MENA,Middle East and North Africa,1415,,4300,",
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

func TestNames(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		dim, code, want string
		ok              bool
	}{
		{"HOST_COUNTRY", "CIV", "Côte d’Ivoire", true},
		{"NATIONALITY", "IRQ", "Iraq", true},
		{"RETURN_COUNTRY", "XKX", "", false},
		{"RETURN_REGION", "SEEECA", "South-Eastern Europe, Eastern Europe and Central Asia", true},
		{"HOST_REGION", "EUR", "", false},
		{"VULNERABILITY", "MEDICAL_NEEDS", "", false},
	} {
		got, ok := Names(tt.dim, tt.code)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Names(%s, %s) = %q, %v; want %q, %v", tt.dim, tt.code, got, ok, tt.want, tt.ok)
		}
	}
	// A code without a name gets an empty name column, not an error.
	cols, rows, err := TableWithNames("PERSONS_RETURNED", []string{"DIMENSION_RETURN_COUNTRY"},
		[]Cell{{Keys: []string{"NER"}, Count: 40}, {Keys: []string{"ZZZ"}, Count: 12}}, Names)
	if err != nil {
		t.Fatal(err)
	}
	if cols[1].Tag != "#country+name+dest" {
		t.Errorf("name column tag %q", cols[1].Tag)
	}
	want := [][]string{{"NER", "Niger", "40", ""}, {"ZZZ", "", "12", ""}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// A table through disclosure control and into HXL: small counts and their complements come
// out empty with #meta+suppressed, and no total is written.
func TestFromReleased(t *testing.T) {
	t.Parallel()
	released, err := disclosure.Suppress(disclosure.Table{Dimensions: 2, Cells: []disclosure.Cell{
		{Keys: []string{"EEA", "FEMALE"}, Count: 120}, {Keys: []string{"EEA", "MALE"}, Count: 340},
		{Keys: []string{"MENA", "FEMALE"}, Count: 3}, {Keys: []string{"MENA", "MALE"}, Count: 95},
		{Keys: []string{"APAC", "FEMALE"}, Count: 60}, {Keys: []string{"APAC", "MALE"}, Count: 70},
	}}, disclosure.DefaultK)
	if err != nil {
		t.Fatal(err)
	}
	cells := FromReleased(released)
	if len(cells) != 6 {
		t.Fatalf("%d cells, want the 6 details without totals", len(cells))
	}
	_, rows, err := Table("PERSONS_RETURNED", []string{"HOST_REGION", "SEX"}, cells)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r[0] == "MENA" && (r[1] != "" || r[2] != "true") {
			t.Errorf("MENA's 3 women are released: %v", r)
		}
		for _, v := range r {
			if v == "3" {
				t.Errorf("a suppressed count is written: %v", r)
			}
		}
	}
	suppressed := 0
	for _, r := range rows {
		for i := 2; i < len(r); i += 2 {
			if r[i] == "true" {
				suppressed++
			}
		}
	}
	if suppressed < 2 {
		t.Errorf("%d counts suppressed, want the small one and at least one complement", suppressed)
	}
}

// A differentially private table: noisy counts, no suppression columns, a combination the
// release left out written empty (not 0), and the provenance columns at the end of every row.
func TestLayoutNoisyWithMeta(t *testing.T) {
	t.Parallel()
	cells := []Cell{
		{Keys: []string{"EEA", "FEMALE"}, Count: 13368},
		{Keys: []string{"EEA", "MALE"}, Count: 42345},
		{Keys: []string{"MENA", "MALE"}, Count: 0},
	}
	meta := []Meta{
		{Column{"Release method", "#meta+method"}, "DIFFERENTIAL_PRIVACY"},
		{Column{"Epsilon", "#meta+epsilon"}, "0.5"},
	}
	var buf bytes.Buffer
	if err := WriteLayout(&buf, "PERSONS_RETURNED", []string{"HOST_REGION", "SEX"}, cells, Options{Noisy: true, Meta: meta}); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"Host region,\"Persons returned, female\",\"Persons returned, male\",Release method,Epsilon",
		"#region+code+host,#reached+ind+returnees+f,#reached+ind+returnees+m,#meta+method,#meta+epsilon",
		"EEA,13368,42345,DIFFERENTIAL_PRIVACY,0.5",
		"MENA,,0,DIFFERENTIAL_PRIVACY,0.5",
		"",
	}, "\n")
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	buf.Reset()
	err := WriteLayout(&buf, "PERSONS_RETURNED", []string{"HOST_REGION"}, []Cell{{Keys: []string{"EEA"}, Suppressed: true}}, Options{Noisy: true})
	if !errors.Is(err, ErrInvalid) || buf.Len() != 0 {
		t.Errorf("a suppressed cell in a noisy table: err %v, wrote %q", err, buf.String())
	}
}

// Meta columns follow a suppressed table's columns too, and a table without cells still gets
// a row to carry them.
func TestLayoutMetaOnSuppressedAndEmptyTables(t *testing.T) {
	t.Parallel()
	meta := []Meta{{Column{"k", "#meta+k"}, "11"}}
	cols, rows, err := Layout("PERSONS_RETURNED", []string{"HOST_REGION"}, []Cell{
		{Keys: []string{"EEA"}, Count: 20}, {Keys: []string{"MENA"}, Suppressed: true}}, Options{Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []Column{{"Host region", "#region+code+host"}, {"Persons returned", "#reached+ind+returnees"},
		{"Persons returned, suppressed", "#meta+suppressed"}, {"k", "#meta+k"}}
	if diff := cmp.Diff(wantCols, cols); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"EEA", "20", "", "11"}, {"MENA", "", "true", "11"}}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}

	var buf bytes.Buffer
	if err := WriteLayout(&buf, "CASES_REGISTERED", []string{"SEX"}, nil, Options{Meta: meta}); err != nil {
		t.Fatal(err)
	}
	want := "Cases registered,\"Cases registered, suppressed\",k\n#targeted+ind+registered,#meta+suppressed,#meta+k\n,,11\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
