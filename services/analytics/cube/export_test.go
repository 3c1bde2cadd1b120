package cube

// ReducedOnly makes c answer every query through the reduced table and its expansion, the
// path of the queries too large for the dense one, so that tests reach it with small data.
func ReducedOnly(c *Cube) { c.reducedOnly = true }
