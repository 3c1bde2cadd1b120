// Package aggbench draws the random Aggregate calls by which HQ analytics' speed is measured:
// `passage demo bench` sends them through gRPC, and the analytics service's benchmarks answer
// them in process, so that both measure the same mix of questions.
package aggbench
