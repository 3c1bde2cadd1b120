package referral

// CheckTransition exposes the status machine to the tests.
var CheckTransition = checkTransition
