package hxl

import (
	"bytes"
	"encoding/csv"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	err := Write(&buf,
		[]Column{{"Host region", "#region+code+host"}, {"Persons returned", "#reached+ind+returnees"}},
		[][]string{{"EEA", "55712"}, {"MENA", "5715"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "Host region,Persons returned\n#region+code+host,#reached+ind+returnees\nEEA,55712\nMENA,5715\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Every value a spreadsheet would evaluate is written as text, headers included; the CSV still
// parses back to the same number of fields.
func TestWriteNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	values := []string{"=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "NER", "12", "", "a=b"}
	want := []string{"'=HYPERLINK(\"http://x\",\"y\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\t=1", "'\r=1", "NER", "12", "", "a=b"}
	cols := make([]Column, len(values))
	for i := range cols {
		cols[i] = Column{Header: values[i], Tag: "#meta"}
	}
	var buf bytes.Buffer
	if err := Write(&buf, cols, [][]string{values}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d lines, want 3", len(recs))
	}
	if diff := cmp.Diff(want, recs[0]); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, recs[2]); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

func TestWriteRefusesAndWritesNothing(t *testing.T) {
	t.Parallel()
	ok := []Column{{"Year", "#date+year"}, {"Persons", "#reached+ind"}}
	tests := []struct {
		name string
		cols []Column
		rows [][]string
	}{
		{"no columns", nil, nil},
		{"tag without #", []Column{{"Year", "date+year"}}, nil},
		{"tag with space", []Column{{"Year", "#date +year"}}, nil},
		{"upper case tag", []Column{{"Year", "#Date"}}, nil},
		{"empty attribute", []Column{{"Year", "#date+"}}, nil},
		{"formula tag", []Column{{"Year", "=cmd"}}, nil},
		{"short row", ok, [][]string{{"2015", "12"}, {"2016"}}},
		{"long row", ok, [][]string{{"2015", "12", "Amina"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Write(&buf, tt.cols, tt.rows); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q before refusing", buf.String())
			}
		})
	}
}

func TestValidTag(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string]bool{
		"#country+code": true, "#reached+ind+f": true, "#date+year": true, "#affected+ind+age48plus": true,
		"#adm1+code": true, "#meta": true, "#": false, "country": false, "#1abc": false, "#a++b": false,
		"#a+B": false, "#a+b c": false, "#a+_b": false,
	} {
		if got := ValidTag(tag); got != want {
			t.Errorf("ValidTag(%q) = %v, want %v", tag, got, want)
		}
	}
}
