// Package pagetoken encodes the opaque next_page_token of the List RPCs: a keyset cursor (the
// last row's time and id) bound to a hash of the filters it was issued for, so that a token
// cannot be replayed against other filters or another mission's list.
package pagetoken
