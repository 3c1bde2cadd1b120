// Package ctdc writes anonymised victim-of-trafficking microdata in the column layout of the
// Counter Trafficking Data Collaborative's global dataset, so that Passage's records can be
// published beside IOM's and its partners' without ever naming or singling out a person.
//
// Anonymise k-anonymises the records (k = 11 by default, as the CTDC does): quasi-identifier
// values are generalised, then suppressed, and records are withheld only as a last resort,
// until every released row occurs at least k times. Verify checks that property on the rows
// themselves, independently of how they were made, and Release.WriteCSV runs it again before
// writing a byte. Extra columns (the release's provenance) may end every row with one value
// each; being the same in every row, they leave k-anonymity as it is. The mapping from Passage's codes to the CTDC's is in codebook.go, with its
// source.
package ctdc
