// Package kmstest gives tests a key manager: Tink's fake KMS, registered once for the
// process, and a fresh key URI per call. Test code only: the fake keeps its key in the URI.
package kmstest
