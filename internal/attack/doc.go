// Package attack is the security team's suite: it attacks a running server with all four
// services the way an outsider, a staff member of another mission or role, or a compromised
// service would (hostile strings in every text field of every request, forged and stale
// tokens, another mission's ids in every id field, identity asked for without the right to
// it, direct SQL as each service role past its grants and its declared mission) and checks
// that each attempt is refused with the right code and writes nothing. It holds only tests.
package attack
