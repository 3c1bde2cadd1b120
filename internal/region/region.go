package region

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// Region is one IOM regional office's area: a stable code, the name HQ reports under, the
// city of the office and its member countries (ISO 3166-1 alpha-3, sorted).
type Region struct {
	Code      string
	Name      string
	Office    string
	Countries []string
}

//go:embed regions.json
var data []byte

// file is regions.json as written: each region's countries come in two lists, those read
// on IOM's own pages and those placed by judgement, each with the reason (see doc.go).
type file struct {
	Checked string `json:"checked"`
	Regions []struct {
		Code   string            `json:"code"`
		Name   string            `json:"name"`
		Office string            `json:"office"`
		Listed []string          `json:"listed"`
		Judged map[string]string `json:"judged"`
	} `json:"regions"`
}

type table struct {
	regions []Region
	byCode  map[string]int
	of      map[string]int
}

// load parses the embedded file once. The file is part of the binary and its tests prove
// it well formed, so a failure here is a build defect, not a run-time condition: it panics.
var load = sync.OnceValue(func() table {
	t, err := parse(data)
	if err != nil {
		panic("region: embedded regions.json: " + err.Error())
	}
	return t
})

func parse(b []byte) (table, error) {
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return table{}, err
	}
	t := table{byCode: map[string]int{}, of: map[string]int{}}
	for i, r := range f.Regions {
		if r.Code == "" || r.Name == "" {
			return table{}, fmt.Errorf("region %d: code and name are required", i)
		}
		if _, dup := t.byCode[r.Code]; dup {
			return table{}, fmt.Errorf("region %s twice", r.Code)
		}
		t.byCode[r.Code] = i
		countries := slices.Clone(r.Listed)
		for c := range r.Judged {
			countries = append(countries, c)
		}
		slices.Sort(countries)
		for _, c := range countries {
			if prev, dup := t.of[c]; dup {
				return table{}, fmt.Errorf("country %s in both %s and %s", c, f.Regions[prev].Code, r.Code)
			}
			t.of[c] = i
		}
		t.regions = append(t.regions, Region{Code: r.Code, Name: r.Name, Office: r.Office, Countries: countries})
	}
	return t, nil
}

// All returns every region in the file's order, which is stable. The slices are the
// caller's own.
func All() []Region {
	rs := load().regions
	out := make([]Region, len(rs))
	for i, r := range rs {
		out[i] = clone(r)
	}
	return out
}

// Of returns the region of the country alpha3, and false when the code is not an accepted
// country (see internal/country: every accepted country has exactly one region).
func Of(alpha3 string) (Region, bool) {
	t := load()
	i, ok := t.of[alpha3]
	if !ok {
		return Region{}, false
	}
	return clone(t.regions[i]), true
}

// ByCode returns the region with the given code ("EEA", "SEEECA", ...), case-sensitive.
func ByCode(code string) (Region, bool) {
	t := load()
	i, ok := t.byCode[code]
	if !ok {
		return Region{}, false
	}
	return clone(t.regions[i]), true
}

// CodeOf returns only the region code of a country, without copying its member list: the
// form a projection or a filter uses per row.
func CodeOf(alpha3 string) (string, bool) {
	t := load()
	i, ok := t.of[alpha3]
	if !ok {
		return "", false
	}
	return t.regions[i].Code, true
}

func clone(r Region) Region {
	r.Countries = slices.Clone(r.Countries)
	return r
}
