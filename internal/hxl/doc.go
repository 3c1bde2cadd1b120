// Package hxl writes CSV for humanitarian data portals such as HDX: a header row for people,
// then a row of HXL hashtags (the Humanitarian Exchange Language, hxlstandard.org) that tools
// read instead of the headers, then the data. The tags for Passage's analytics dimensions and
// measures are mapped in one place, tags.go; Table lays out an aggregate the way HXL tools
// expect, with sex and age band as tag attributes (+f, +m, +age0_8) rather than as rows.
// Layout also writes tables released under differential privacy (noisy counts, no suppression
// columns) and Meta columns that end every row with a fact about the release, such as its
// provenance.
package hxl
