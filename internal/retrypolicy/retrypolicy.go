package retrypolicy

import "google.golang.org/grpc"

// ServiceConfig retries every method of every service on UNAVAILABLE and ABORTED: four more
// attempts, waiting a random time up to 0.2 s, 0.4 s, 0.8 s and 1.6 s before each (gRPC's
// jittered backoff), so a client gives up about three seconds after the first failure plus
// whatever the server spent on each attempt. Do retries beyond that, to the caller's deadline.
const ServiceConfig = `{
  "methodConfig": [{
    "name": [{}],
    "retryPolicy": {
      "maxAttempts": 5,
      "initialBackoff": "0.2s",
      "maxBackoff": "2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE", "ABORTED"]
    }
  }]
}`

// DialOption is ServiceConfig as the default of a client connection.
func DialOption() grpc.DialOption { return grpc.WithDefaultServiceConfig(ServiceConfig) }
