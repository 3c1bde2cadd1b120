// Package civildate checks and converts calendar dates carried as google.type.Date, including
// the partial dates (year only, year and month) that are common for migrants who do not know
// their exact date of birth.
package civildate
