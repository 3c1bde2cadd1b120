package ctdc

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
)

// ErrNotAnonymous is returned by Verify, and so by WriteCSV, when rows may not be released.
var ErrNotAnonymous = errors.New("ctdc: rows are not k-anonymous")

// Verify checks rows on their own terms, knowing nothing of how they were made: every value
// is one the CTDC codebook allows in its column (so nothing free-text, no name, no formula
// can slip through), and every distinct row occurs at least k times. Every column is treated
// as a quasi-identifier: each describes the person. An empty set of rows passes.
func Verify(rows []Row, k int) error {
	if k < 2 {
		return fmt.Errorf("%w: k must be at least 2", ErrNotAnonymous)
	}
	counts := make(map[Row]int, len(rows)/k+1)
	for i, r := range rows {
		for c, v := range r {
			if !allowed(c, v) {
				return fmt.Errorf("%w: row %d: value not allowed in column %s", ErrNotAnonymous, i, Columns[c])
			}
		}
		counts[r]++
	}
	for _, n := range counts {
		if n < k {
			return fmt.Errorf("%w: a combination of values occurs %d times, fewer than %d", ErrNotAnonymous, n, k)
		}
	}
	return nil
}

var (
	alpha2     = regexp.MustCompile(`^[A-Z]{2}$`)
	regionCode = regexp.MustCompile(`^[A-Za-z]{2,12}$`)
	year       = regexp.MustCompile(`^(19|2[0-9])[0-9]{2}$`)
)

// vocabulary is the set of non-empty values each labelled column may hold.
var vocabulary = func() map[int]map[string]bool {
	v := map[int]map[string]bool{
		colDatasource: {datasource: true},
		colGender:     {},
		colAgeBroad:   {},
		colMajority:   {},
	}
	for _, g := range genders {
		if g != "" {
			v[colGender][g] = true
		}
	}
	for _, a := range ageBands {
		if a.broad != "" {
			v[colAgeBroad][a.broad] = true
			v[colMajority][a.majority] = true
		}
	}
	return v
}()

func allowed(col int, v string) bool {
	if v == "" {
		return true
	}
	switch {
	case col == colYear:
		return year.MatchString(v)
	case col == colCitizenship || col == colCountryOfExploitation:
		return alpha2.MatchString(v)
	case col == colCitizenshipRegion || col == colExploitationRegion:
		return regionCode.MatchString(v)
	case col >= colControl && col <= colControlNotSpecified,
		col >= colExploit && col < colExploit+numExploit:
		return v == "0" || v == "1"
	default:
		return vocabulary[col][v]
	}
}

// Extra is a column of Passage's own that ends every row with the same value: a fact about
// the release, such as its provenance ("releaseMethod" = "K_ANONYMITY"), never about a
// person. Being the same in every row, it leaves k-anonymity as it is.
type Extra struct {
	Name, Value string
}

// ErrInvalidExtra is returned, wrapped, by WriteCSV for an extra column it will not write.
var ErrInvalidExtra = errors.New("ctdc: invalid extra column")

var (
	// extraName is a column name in the dataset's own style (camelCase).
	extraName = regexp.MustCompile(`^[a-z][A-Za-z0-9]{0,63}$`)
	// extraValue is a code, a number or a time: nothing a spreadsheet reads as a formula, no
	// free text.
	extraValue = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9 _.:+-]{0,63})?$`)
)

// WriteCSV writes the release in the CTDC layout: the header, then one line per row, each
// followed by the extra columns' values. It runs Verify first, and writes nothing at all if the
// rows fail it, k is below DefaultK, or an extra column is malformed (a name not in
// camelCase or already a column, a value other than a code, number or time).
func (r Release) WriteCSV(w io.Writer, extra ...Extra) error {
	if r.K < DefaultK {
		return fmt.Errorf("%w: a release needs k of at least %d", ErrNotAnonymous, DefaultK)
	}
	if err := Verify(r.Rows, r.K); err != nil {
		return err
	}
	header := append(make([]string, 0, numColumns+len(extra)), Columns[:]...)
	for i, e := range extra {
		if !extraName.MatchString(e.Name) || slices.Contains(header, e.Name) || !extraValue.MatchString(e.Value) {
			return fmt.Errorf("%w: extra column %d", ErrInvalidExtra, i)
		}
		header = append(header, e.Name)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	line := make([]string, len(header))
	for i, e := range extra {
		line[numColumns+i] = e.Value
	}
	for _, row := range r.Rows {
		copy(line, row[:])
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
