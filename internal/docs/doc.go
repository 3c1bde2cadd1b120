// Package docs reads the commands the documentation shows (README.md and docs/**/*.md) so
// that tests can run or check every one of them: the docs cannot then describe a command or
// a flag that does not exist. It finds the fenced shell blocks and the passage commands in
// inline code, splits their lines as a shell would, says what each runs (the passage CLI,
// make, grpcurl, curl, a variable assignment) and binds the placeholders the docs write for
// ids an earlier command printed (Session).
package docs
