// Package ageband generalises a date of birth into the CTDC broad age band at a given day,
// so that case tables and statistics never hold the date itself.
package ageband
