// Package attack is the security team's suite: it attacks a running server with all four
// services the way an outsider or a compromised service would (hostile strings in every text
// field of every request, forged and stale tokens, direct SQL as each service role) and
// checks that each attempt is refused with the right code and writes nothing. It holds only
// tests.
package attack
