package schemas

// KubernetesVersion is the Kubernetes release whose OpenAPI definitions (in the Go module
// k8s.io/kubernetes, api/openapi-spec/v3) the built-in kinds' schemas are generated from.
const KubernetesVersion = "v1.37.2"

// BuiltIn is a built-in kind: where its definition is in the release's OpenAPI documents.
type BuiltIn struct {
	Kind Kind
	// Document is the file under api/openapi-spec/v3 that defines it.
	Document string
	// Component is its schema's name in that document.
	Component string
}

// BuiltIns are the built-in kinds deploy/kubernetes uses: the only ones with a schema here.
var BuiltIns = []BuiltIn{
	{Kind{"v1", "Namespace"}, "api__v1_openapi.json", "io.k8s.api.core.v1.Namespace"},
	{Kind{"v1", "ConfigMap"}, "api__v1_openapi.json", "io.k8s.api.core.v1.ConfigMap"},
	{Kind{"v1", "Service"}, "api__v1_openapi.json", "io.k8s.api.core.v1.Service"},
	{Kind{"v1", "ServiceAccount"}, "api__v1_openapi.json", "io.k8s.api.core.v1.ServiceAccount"},
	{Kind{"apps/v1", "Deployment"}, "apis__apps__v1_openapi.json", "io.k8s.api.apps.v1.Deployment"},
	{Kind{"batch/v1", "Job"}, "apis__batch__v1_openapi.json", "io.k8s.api.batch.v1.Job"},
	{Kind{"policy/v1", "PodDisruptionBudget"}, "apis__policy__v1_openapi.json", "io.k8s.api.policy.v1.PodDisruptionBudget"},
	{Kind{"networking.k8s.io/v1", "NetworkPolicy"}, "apis__networking.k8s.io__v1_openapi.json", "io.k8s.api.networking.v1.NetworkPolicy"},
}
