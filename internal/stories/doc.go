// Package stories holds no code of its own: its tests walk the seed document's stories
// (an AVRR return from Germany to Iraq, a victim of trafficking in Thailand who returns home
// through AVRR, a stranded migrant in Yemen returned under HASM, a HASM approval refused for
// a spent fund) through every service at once, wired as `passage serve` wires them, and check
// the events the services after them (analytics, referral) will consume.
package stories
