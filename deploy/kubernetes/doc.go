// Package kubernetes holds Passage's Kubernetes manifests (kustomize) and the tests that check
// them: each stage (database/, migrate/, app/) renders with kustomize's own library (krusty)
// and every object it makes validates with kubeconform against strict schemas of the
// Kubernetes release, CloudNativePG and Gateway API kinds (schemas/); the rendered objects are
// then held against the code: a Deployment, Service, PodDisruptionBudget and GRPCRoute for
// every service of services/catalog, its command, its database roles and their passwords'
// Secrets, the probes on the server's own endpoints and ports, and the pod hardening the
// namespace's restricted Pod Security Standard requires. docs/operators/kubernetes.md is the
// operator's guide. The package has no Go code besides its tests.
package kubernetes
