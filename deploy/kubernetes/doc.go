// Package kubernetes holds Passage's Kubernetes manifests (kustomize) and the tests that check
// them: each stage (database/, migrate/, app/) renders with kustomize's own library (krusty)
// and every object it makes validates with kubeconform against strict schemas of the
// Kubernetes release, CloudNativePG and Gateway API kinds (schemas/); the rendered objects are
// then held against the code: a Deployment, Service, PodDisruptionBudget and GRPCRoute for
// every service of services/catalog, its command, its database roles and their passwords'
// Secrets, the probes on the server's own endpoints and ports, the pod hardening the
// namespace's restricted Pod Security Standard requires, and the Vault login: no VAULT_TOKEN
// anywhere, each Deployment logging in with Vault's Kubernetes auth as its own role, with a
// projected token of Vault's audience, and the roles and policy (vault/) the operator's
// guide has Vault make. docs/operators/kubernetes.md is the operator's guide. The package has no Go code besides its tests.
package kubernetes
