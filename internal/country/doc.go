// Package country validates ISO 3166-1 alpha-3 country codes, the only way Passage records a
// country (nationality, host country, return country, issuing state).
package country
