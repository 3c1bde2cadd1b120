package outbox

import "context"

// DrainLeased drains the partitions c leases, fenced, as Run does between balances.
func (c *Consumer) DrainLeased(ctx context.Context) (int, error) { return c.drainLeased(ctx) }
