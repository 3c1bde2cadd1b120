package ctdc

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/internal/region"
)

var update = flag.Bool("update", false, "rewrite testdata/*.csv from the current output")

// testRegions stands in for internal/region with a few regions, and leaves some countries
// (SEN, GIN, CIV, FRA, UZB, PHL, VNM, EGY) without one, so that they go straight to empty.
var testRegions = map[string]string{
	"MLI": "WCA", "NER": "WCA", "NGA": "WCA",
	"DEU": "EEA", "ITA": "EEA", "ISL": "EEA",
	"UKR": "SEEECA", "MDA": "SEEECA",
	"THA": "APAC", "KHM": "APAC",
	"LBY": "MENA",
}

func regionOf(c string) (string, bool) { r, ok := testRegions[c]; return r, ok }

var (
	someCountries = []string{"MLI", "NER", "NGA", "SEN", "GIN", "CIV", "DEU", "ITA", "FRA",
		"UKR", "MDA", "UZB", "THA", "KHM", "PHL", "VNM", "LBY", "EGY"}
	sexCodes     = []string{"FEMALE", "MALE", "OTHER", "UNKNOWN", ""}
	ageCodes     = []string{"0_8", "9_17", "18_20", "21_23", "24_26", "27_29", "30_38", "39_47", "48_PLUS", "UNKNOWN"}
	exploitCodes = []string{"SEXUAL_EXPLOITATION", "FORCED_LABOUR", "FORCED_MARRIAGE",
		"SLAVERY_AND_SIMILAR_PRACTICES", "FORCED_CRIMINAL_ACTIVITY", "FORCED_BEGGING", "REMOVAL_OF_ORGANS", "OTHER"}
)

// skewed picks from list with a Zipf-like bias towards its head, as real caseloads are.
func skewed(r *rand.Rand, list []string) string {
	i := int(float64(len(list)) * r.Float64() * r.Float64())
	return list[i]
}

func randomRecords(r *rand.Rand, n int) []VictimRecord {
	recs := make([]VictimRecord, n)
	for i := range recs {
		v := VictimRecord{
			Gender:                skewed(r, sexCodes),
			AgeBroad:              skewed(r, ageCodes),
			Citizenship:           skewed(r, someCountries),
			CountryOfExploitation: skewed(r, someCountries),
			Year:                  2015 + r.IntN(6),
		}
		if r.IntN(10) == 0 {
			v.Citizenship, v.Year = "", 0
		}
		for range 1 + r.IntN(2) {
			if c := skewed(r, exploitCodes); !slices.Contains(v.Exploitation, c) {
				v.Exploitation = append(v.Exploitation, c)
			}
		}
		for range r.IntN(4) {
			if c := controlCodes[r.IntN(numControl)]; !slices.Contains(v.MeansOfControl, c) {
				v.MeansOfControl = append(v.MeansOfControl, c)
			}
		}
		recs[i] = v
	}
	return recs
}

// TestAnonymiseProperties runs Anonymise on many random record sets and checks what must hold
// whatever the input: the release verifies, every input record is either released or counted
// as withheld, and every released row is a generalisation of a distinct input record (nothing
// invented, nothing counted twice).
func TestAnonymiseProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 11))
	for iter := range 100 {
		n := r.IntN(300)
		k := []int{2, 5, 11, 25}[r.IntN(4)]
		// Half the runs with the real IOM regions, half with a few test regions that leave
		// some countries without one.
		regions := region.CodeOf
		if iter%2 == 0 {
			regions = regionOf
		}
		recs := randomRecords(r, n)
		before := slices.Clone(recs)
		rel, err := anonymise(recs, k, regions)
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		if err := Verify(rel.Rows, k); err != nil {
			t.Fatalf("iteration %d: release does not verify: %v", iter, err)
		}
		if got := len(rel.Rows) + rel.Withheld; got != n || rel.Input != n {
			t.Fatalf("iteration %d: released %d + withheld %d != input %d (Input %d)", iter, len(rel.Rows), rel.Withheld, n, rel.Input)
		}
		if rel.Generalised > len(rel.Rows) || rel.Suppressed > len(rel.Rows) {
			t.Fatalf("iteration %d: counts exceed released rows: %+v", iter, rel)
		}
		if !reflect.DeepEqual(before, recs) {
			t.Fatalf("iteration %d: Anonymise modified its input", iter)
		}
		if !slices.IsSortedFunc(rel.Rows, func(a, b Row) int { return slices.Compare(a[:], b[:]) }) {
			t.Fatalf("iteration %d: rows keep an order other than sorted", iter)
		}
		if unmatched := matchRows(t, rel.Rows, recs, regions); unmatched >= 0 {
			t.Fatalf("iteration %d: released row %v generalises no distinct input record", iter, rel.Rows[unmatched])
		}
	}
}

var testAlpha2 = map[string]string{"MLI": "ML", "NER": "NE", "NGA": "NG", "SEN": "SN", "GIN": "GN", "CIV": "CI",
	"DEU": "DE", "ITA": "IT", "ISL": "IS", "FRA": "FR", "UKR": "UA", "MDA": "MD", "UZB": "UZ",
	"THA": "TH", "KHM": "KH", "PHL": "PH", "VNM": "VN", "LBY": "LY", "EGY": "EG"}

// exact is the CTDC row of v with nothing given up, worked out here independently of the
// package's own code so that the comparison means something.
func exact(t *testing.T, v VictimRecord, regionOf func(string) (string, bool)) Row {
	t.Helper()
	var row Row
	row[colDatasource] = "Case Management"
	if v.Year != 0 {
		row[colYear] = strconv.Itoa(v.Year)
	}
	row[colGender] = map[string]string{"FEMALE": "Female", "MALE": "Male", "OTHER": "Transgender/NonConforming"}[v.Gender]
	if b := map[string]string{"0_8": "0--8", "9_17": "9--17", "18_20": "18--20", "21_23": "21--23", "24_26": "24--26",
		"27_29": "27--29", "30_38": "30--38", "39_47": "39--47", "48_PLUS": "48+"}[v.AgeBroad]; b != "" {
		row[colAgeBroad] = b
		row[colMajority] = "Adult"
		if v.AgeBroad == "0_8" || v.AgeBroad == "9_17" {
			row[colMajority] = "Minor"
		}
	}
	place := func(c string) (string, string) {
		if c == "" {
			return "", ""
		}
		a, ok := testAlpha2[c]
		if !ok {
			t.Fatalf("test table lacks %s", c)
		}
		reg, _ := regionOf(c)
		return a, reg
	}
	row[colCitizenship], row[colCitizenshipRegion] = place(v.Citizenship)
	row[colCountryOfExploitation], row[colExploitationRegion] = place(v.CountryOfExploitation)
	if len(v.Exploitation) > 0 {
		has := func(cs ...string) string {
			for _, c := range cs {
				if slices.Contains(v.Exploitation, c) {
					return "1"
				}
			}
			return "0"
		}
		labour := has("FORCED_LABOUR", "FORCED_CRIMINAL_ACTIVITY", "FORCED_BEGGING")
		sexual := has("SEXUAL_EXPLOITATION")
		row[colExploit+exForcedLabour] = labour
		row[colExploit+exSexualExploit] = sexual
		row[colExploit+exOtherExploit] = has("OTHER")
		row[colExploit+exSexAndLabour] = "0"
		if labour == "1" && sexual == "1" {
			row[colExploit+exSexAndLabour] = "1"
		}
		row[colExploit+exForcedMarriage] = has("FORCED_MARRIAGE")
		row[colExploit+exOrganRemoval] = has("REMOVAL_OF_ORGANS")
		row[colExploit+exSlaveryAndPractices] = has("SLAVERY_AND_SIMILAR_PRACTICES")
	}
	if len(v.MeansOfControl) == 0 {
		row[colControlNotSpecified] = "1"
	} else {
		row[colControlNotSpecified] = "0"
		for i, c := range controlCodes {
			row[colControl+i] = "0"
			if slices.Contains(v.MeansOfControl, c) {
				row[colControl+i] = "1"
			}
		}
	}
	return row
}

// generalises reports whether released row could have come from the exact row e.
func generalises(row, e Row) bool {
	for c := range row {
		v := row[c]
		switch {
		case c == colMajority || c == colCitizenshipRegion || c == colExploitationRegion || c == colDatasource:
			if v != "" && v != e[c] {
				return false
			}
		case c >= colExploit && c < colExploit+numExploit:
			// checked below
		case c >= colControl && c <= colControlNotSpecified:
			// checked below
		default:
			if v != "" && v != e[c] {
				return false
			}
		}
	}
	// Exploitation: exactly as recorded, the three broad classes, or nothing.
	ex := row[colExploit : colExploit+numExploit]
	exE := e[colExploit : colExploit+numExploit]
	switch {
	case slices.Equal(ex, exE):
	case ex[exForcedMarriage] == "" && ex[exSexualExploit] != "":
		other := "0"
		for _, f := range []int{exOtherExploit, exForcedMarriage, exOrganRemoval, exSlaveryAndPractices} {
			if exE[f] == "1" {
				other = "1"
			}
		}
		if ex[exForcedLabour] != exE[exForcedLabour] || ex[exSexualExploit] != exE[exSexualExploit] ||
			ex[exSexAndLabour] != exE[exSexAndLabour] || ex[exOtherExploit] != other ||
			ex[exOrganRemoval] != "" || ex[exSlaveryAndPractices] != "" || ex[exForcedMilitary] != "" {
			return false
		}
	default:
		for _, v := range ex {
			if v != "" {
				return false
			}
		}
	}
	// Means of control: exactly as recorded or nothing.
	ctrl := row[colControl : colControlNotSpecified+1]
	if !slices.Equal(ctrl, e[colControl:colControlNotSpecified+1]) {
		for _, v := range ctrl {
			if v != "" {
				return false
			}
		}
	}
	return true
}

// matchRows finds a one-to-one assignment of released rows to input records each row
// generalises and returns the index of a row left without one, or -1. Equal rows and equal
// records are grouped, which turns the matching into a small flow problem: row groups supply
// their count, record groups take theirs, along "generalises" edges.
func matchRows(t *testing.T, rows []Row, recs []VictimRecord, regionOf func(string) (string, bool)) int {
	t.Helper()
	group := func(rs []Row) ([]Row, []int) {
		idx := map[Row]int{}
		var keys []Row
		var counts []int
		for _, r := range rs {
			i, ok := idx[r]
			if !ok {
				i = len(keys)
				idx[r] = i
				keys = append(keys, r)
				counts = append(counts, 0)
			}
			counts[i]++
		}
		return keys, counts
	}
	exacts := make([]Row, len(recs))
	for i, v := range recs {
		exacts[i] = exact(t, v, regionOf)
	}
	rg, supply := group(rows)
	eg, capacity := group(exacts)
	adj := make([][]int, len(rg))
	flow := make([]map[int]int, len(rg))
	for i := range rg {
		flow[i] = map[int]int{}
		for j := range eg {
			if generalises(rg[i], eg[j]) {
				adj[i] = append(adj[i], j)
			}
		}
	}
	used := make([]int, len(eg))
	// augment looks for a path from row group i to a record group with room, through record
	// groups already full whose flow can be rerouted, and pushes up to amount along it.
	var augment func(i, amount int, seen []bool) int
	augment = func(i, amount int, seen []bool) int {
		for _, j := range adj[i] {
			if seen[j] {
				continue
			}
			seen[j] = true
			if room := capacity[j] - used[j]; room > 0 {
				n := min(room, amount)
				used[j] += n
				flow[i][j] += n
				return n
			}
			for i2 := range rg {
				if f := flow[i2][j]; f > 0 && i2 != i {
					if n := augment(i2, min(f, amount), seen); n > 0 {
						flow[i2][j] -= n
						flow[i][j] += n
						return n
					}
				}
			}
		}
		return 0
	}
	for i := range rg {
		for supply[i] > 0 {
			n := augment(i, supply[i], make([]bool, len(eg)))
			if n == 0 {
				for r := range rows {
					if rows[r] == rg[i] {
						return r
					}
				}
			}
			supply[i] -= n
		}
	}
	return -1
}

// A victim who is the only one of their citizenship must never be released with it, whatever
// else they share with others.
func TestUniqueCitizenshipNeverReleased(t *testing.T) {
	t.Parallel()
	for name, regions := range map[string]func(string) (string, bool){"IOM": region.CodeOf, "test": regionOf} {
		var recs []VictimRecord
		for i := range 60 {
			recs = append(recs, VictimRecord{Gender: "FEMALE", AgeBroad: "18_20", Citizenship: "MLI",
				Exploitation: []string{"SEXUAL_EXPLOITATION"}, CountryOfExploitation: "DEU", Year: 2020 + i%2})
		}
		// Identical to the others in everything but citizenship.
		recs = append(recs, VictimRecord{Gender: "FEMALE", AgeBroad: "18_20", Citizenship: "ISL",
			Exploitation: []string{"SEXUAL_EXPLOITATION"}, CountryOfExploitation: "DEU", Year: 2020})
		rel, err := AnonymiseWith(recs, Options{K: DefaultK, RegionOf: regions})
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rel.Rows {
			if row[colCitizenship] == "IS" || row[colCitizenshipRegion] == "EEA" {
				t.Fatalf("%s regions: the only Icelandic victim is released with their citizenship: %v", name, row)
			}
		}
		if got := len(rel.Rows) + rel.Withheld; got != len(recs) {
			t.Fatalf("released + withheld = %d, want %d", got, len(recs))
		}
		// The 60 Malians are two classes of 30: they stay exactly as recorded.
		mali := 0
		for _, row := range rel.Rows {
			if row[colCitizenship] == "ML" {
				mali++
			}
		}
		if mali != 60 {
			t.Errorf("%s regions: %d Malian rows released as recorded, want 60", name, mali)
		}
	}
}

// Eleven victims of eleven different West African citizenships form a class once their
// citizenship is generalised to the region, so the region is released instead of nothing.
func TestCountriesGeneraliseToRegion(t *testing.T) {
	t.Parallel()
	countries := []string{"MLI", "NER", "NGA", "SEN", "GIN", "CIV", "MLI", "NER", "NGA", "SEN", "GIN"}
	var recs []VictimRecord
	for _, c := range countries {
		recs = append(recs, VictimRecord{Gender: "MALE", AgeBroad: "24_26", Citizenship: c,
			Exploitation: []string{"FORCED_LABOUR"}, CountryOfExploitation: "LBY", Year: 2019})
	}
	rel, err := Anonymise(recs, 11) // the IOM regions: all six are with the Dakar office
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Rows) != 11 || rel.Withheld != 0 {
		t.Fatalf("released %d, withheld %d; want 11, 0", len(rel.Rows), rel.Withheld)
	}
	for _, row := range rel.Rows {
		if row[colCitizenship] != "" || row[colCitizenshipRegion] != "WCA" {
			t.Fatalf("row %v: want citizenship generalised to WCA", row)
		}
		if row[colGender] != "Male" || row[colYear] != "2019" || row[colCountryOfExploitation] != "LY" {
			t.Fatalf("row %v: values common to all were given up", row)
		}
	}
	if rel.Generalised != 11 || rel.Suppressed != 11 {
		// Suppressed: the age band went to majority status (generalised) and the means of
		// control "not specified" flag was emptied on the way (suppressed).
		t.Errorf("Generalised %d, Suppressed %d; want 11, 11", rel.Generalised, rel.Suppressed)
	}
}

func TestAnonymiseWithholdsOnlyAsLastResort(t *testing.T) {
	t.Parallel()
	recs := []VictimRecord{{Gender: "FEMALE", Citizenship: "MLI", Year: 2020}, {Gender: "MALE", Year: 2021}}
	rel, err := anonymise(recs, 2, region.CodeOf)
	if err != nil {
		t.Fatal(err)
	}
	// Two people with nothing in common become one class of two once everything is emptied.
	if len(rel.Rows) != 2 || rel.Withheld != 0 || rel.Suppressed != 2 {
		t.Fatalf("got %d rows, %d withheld, %d suppressed; want 2, 0, 2", len(rel.Rows), rel.Withheld, rel.Suppressed)
	}
	rel, err = anonymise(recs, 3, region.CodeOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Rows) != 0 || rel.Withheld != 2 {
		t.Fatalf("k above the number of records: got %d rows, %d withheld; want 0, 2", len(rel.Rows), rel.Withheld)
	}
}

func TestAnonymiseRefusesBadInput(t *testing.T) {
	t.Parallel()
	good := VictimRecord{Gender: "FEMALE", AgeBroad: "18_20", Citizenship: "MLI", Year: 2020,
		Exploitation: []string{"FORCED_LABOUR"}, MeansOfControl: []string{"THREATS"}, CountryOfExploitation: "LBY"}
	tests := []struct {
		name  string
		edit  func(*VictimRecord)
		field string
	}{
		{"gender", func(v *VictimRecord) { v.Gender = "Amina Diallo" }, "gender"},
		{"age", func(v *VictimRecord) { v.AgeBroad = "1992-05-01" }, "ageBroad"},
		{"citizenship", func(v *VictimRecord) { v.Citizenship = "=HYPERLINK(1)" }, "citizenship"},
		{"exploitation country", func(v *VictimRecord) { v.CountryOfExploitation = "XKX" }, "countryOfExploitation"},
		{"year", func(v *VictimRecord) { v.Year = 12 }, "year"},
		{"exploitation", func(v *VictimRecord) { v.Exploitation = []string{"Diallo"} }, "exploitation"},
		{"control", func(v *VictimRecord) { v.MeansOfControl = []string{"Diallo"} }, "means of control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := good
			tt.edit(&v)
			_, err := Anonymise([]VictimRecord{good, v}, DefaultK)
			if !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("err = %v, want ErrInvalidRecord", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.field) || !strings.Contains(msg, " 1:") {
				t.Errorf("error %q does not name record 1 and field %s", msg, tt.field)
			}
			for _, leak := range []string{"Amina", "Diallo", "1992", "HYPERLINK", "XKX"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q carries the value", msg)
				}
			}
		})
	}
	for _, k := range []int{-1, 1, 2, DefaultK - 1} {
		if _, err := Anonymise([]VictimRecord{good}, k); err == nil {
			t.Errorf("k = %d accepted", k)
		}
	}
	if _, err := anonymise([]VictimRecord{good}, 1, region.CodeOf); err == nil {
		t.Error("k = 1 accepted by the algorithm")
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	var row Row
	row[colDatasource] = datasource
	row[colGender] = "Female"
	rows := slices.Repeat([]Row{row}, 3)
	if err := Verify(rows, 3); err != nil {
		t.Fatalf("three equal rows at k = 3: %v", err)
	}
	if err := Verify(rows, 4); !errors.Is(err, ErrNotAnonymous) {
		t.Fatalf("three equal rows at k = 4: err = %v, want ErrNotAnonymous", err)
	}
	if err := Verify(nil, 11); err != nil {
		t.Fatalf("no rows: %v", err)
	}
	if err := Verify(rows, 1); err == nil {
		t.Fatal("k = 1 accepted")
	}
	for _, bad := range []struct {
		col int
		v   string
	}{
		{colGender, "Amina"}, {colCitizenship, "=1+1"}, {colCitizenship, "MLI"}, {colYear, "20200"},
		{colAgeBroad, "31"}, {colExploit, "yes"}, {colControl + 3, "2"}, {colCitizenshipRegion, "@SUM(A1)"},
		{colDatasource, "Hotline"}, {colMajority, "Minor "},
	} {
		r := row
		r[bad.col] = bad.v
		if err := Verify(slices.Repeat([]Row{r}, 11), 11); !errors.Is(err, ErrNotAnonymous) {
			t.Errorf("%s = %q: err = %v, want ErrNotAnonymous", Columns[bad.col], bad.v, err)
		}
	}
}

// WriteCSV verifies again and writes nothing at all when the rows do not pass, however the
// Release was made.
func TestWriteCSVRefusesUnverifiedRows(t *testing.T) {
	t.Parallel()
	var row Row
	row[colGender] = "Male"
	var buf bytes.Buffer
	err := Release{Rows: []Row{row}, K: 11}.WriteCSV(&buf)
	if !errors.Is(err, ErrNotAnonymous) {
		t.Fatalf("err = %v, want ErrNotAnonymous", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %d bytes before refusing", buf.Len())
	}
	// Three equal rows are 3-anonymous, but a release needs the CTDC's k at least.
	row[colDatasource] = datasource
	err = Release{Rows: slices.Repeat([]Row{row}, 3), K: 3}.WriteCSV(&buf)
	if !errors.Is(err, ErrNotAnonymous) || buf.Len() != 0 {
		t.Fatalf("k = 3: err = %v, %d bytes written; want ErrNotAnonymous and nothing", err, buf.Len())
	}
}

// Extra columns end the header and every row with their value; a malformed one (a name that
// is not camelCase or is already a column, a value that is free text or a formula) writes
// nothing.
func TestWriteCSVExtraColumns(t *testing.T) {
	t.Parallel()
	var row Row
	row[colDatasource], row[colGender] = datasource, "Male"
	rel := Release{Rows: slices.Repeat([]Row{row}, 11), K: 11}
	var buf bytes.Buffer
	if err := rel.WriteCSV(&buf, Extra{"releaseMethod", "K_ANONYMITY"}, Extra{"releaseTime", "2026-12-07T12:00:00Z"}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 12 {
		t.Fatalf("%d lines, want the header and 11 rows", len(recs))
	}
	if diff := cmp.Diff(append(slices.Clone(Columns[:]), "releaseMethod", "releaseTime"), recs[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	for i, r := range recs[1:] {
		if diff := cmp.Diff(append(slices.Clone(row[:]), "K_ANONYMITY", "2026-12-07T12:00:00Z"), r); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i, diff)
		}
	}
	for _, bad := range []Extra{{"ReleaseMethod", "X"}, {"release method", "X"}, {"gender", "X"}, {"note", "=HYPERLINK(1)"},
		{"note", "-1+1"}, {"note", "Amina, 34"}, {"note", "a\nb"}} {
		buf.Reset()
		if err := rel.WriteCSV(&buf, bad); !errors.Is(err, ErrInvalidExtra) || buf.Len() != 0 {
			t.Errorf("%+v: err = %v, %d bytes written; want ErrInvalidExtra and nothing", bad, err, buf.Len())
		}
	}
}

// TestGoldenCSV pins the exact bytes for a small fixed input at the CTDC's k: eleven Nigerian
// women (one class, kept as recorded), eleven Nigerien boys who differ only in age band
// (generalised to majority status together, their unrecorded means of control emptied), and
// one Thai woman alone in every respect (withheld).
func TestGoldenCSV(t *testing.T) {
	t.Parallel()
	var recs []VictimRecord
	for range 11 {
		recs = append(recs, VictimRecord{Gender: "FEMALE", AgeBroad: "18_20", Citizenship: "NGA",
			Exploitation: []string{"SEXUAL_EXPLOITATION", "FORCED_LABOUR"}, MeansOfControl: []string{"DEBT_BONDAGE", "THREATS"},
			CountryOfExploitation: "ITA", Year: 2018})
	}
	for i := range 11 {
		age := "9_17"
		if i < 5 {
			age = "0_8"
		}
		recs = append(recs, VictimRecord{Gender: "MALE", AgeBroad: age, Citizenship: "NER",
			Exploitation: []string{"FORCED_BEGGING"}, CountryOfExploitation: "NGA", Year: 2018})
	}
	recs = append(recs, VictimRecord{Gender: "FEMALE", AgeBroad: "48_PLUS", Citizenship: "THA",
		Exploitation: []string{"FORCED_MARRIAGE"}, CountryOfExploitation: "KHM", Year: 2017})
	rel, err := AnonymiseWith(recs, Options{RegionOf: regionOf})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rel.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden.csv")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("CSV differs from %s (-want +got):\n%s", golden, diff)
	}
	if rel.Withheld != 1 || rel.Generalised != 11 || rel.Suppressed != 11 || len(rel.Rows) != 22 {
		t.Errorf("released %d, withheld %d, generalised %d, suppressed %d; want 22, 1, 11, 11",
			len(rel.Rows), rel.Withheld, rel.Generalised, rel.Suppressed)
	}
}

func BenchmarkAnonymise100k(b *testing.B) {
	recs := randomRecords(rand.New(rand.NewPCG(1, 2)), 100_000)
	b.ReportAllocs()
	var rel Release
	for b.Loop() {
		var err error
		if rel, err = AnonymiseWith(recs, Options{K: DefaultK, RegionOf: regionOf}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rel.Rows)), "released")
	b.ReportMetric(float64(rel.Generalised), "generalised")
	b.ReportMetric(float64(rel.Suppressed), "suppressed")
	b.ReportMetric(float64(rel.Withheld), "withheld")
}

// BenchmarkWriteCSV100k measures Verify and writing a release of 100,000 rows.
func BenchmarkWriteCSV100k(b *testing.B) {
	rel, err := AnonymiseWith(randomRecords(rand.New(rand.NewPCG(1, 2)), 100_000), Options{K: DefaultK, RegionOf: regionOf})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := rel.WriteCSV(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
