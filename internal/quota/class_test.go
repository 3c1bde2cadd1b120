package quota_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/quota"
	"github.com/passage-cm/passage/services/catalog"
)

// TestEveryMethodHasAClass walks every method of every service `passage serve` runs (each
// spec's own and those it includes), from the generated descriptors, so that a method added
// later fails here until it has a class.
func TestEveryMethodHasAClass(t *testing.T) {
	t.Parallel()
	seen := map[quota.Class]int{}
	n := 0
	for _, spec := range catalog.Services() {
		// A spec serves its own service and those it includes (intake's: the case notes and the
		// person search).
		for _, name := range append([]string{spec.Name}, spec.Includes...) {
			n += checkClasses(t, spec.Policy, name, seen)
		}
	}
	if n < 60 || seen[quota.Read] == 0 || seen[quota.Write] == 0 || seen[quota.Search] == 0 || seen[quota.Analytics] != 5 {
		t.Errorf("%d methods, by class %v: want every service's, reads, writes, searches and the 5 analytics methods", n, seen)
	}
}

// checkClasses checks that every method of the service name is in policy and has a staff
// class, counting the classes in seen; it returns the number of methods.
func checkClasses(t *testing.T, policy auth.Policy, name string, seen map[quota.Class]int) int {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	methods := d.(protoreflect.ServiceDescriptor).Methods()
	for i := range methods.Len() {
		full := "/" + name + "/" + string(methods.Get(i).Name())
		if _, listed := policy[full]; !listed {
			t.Errorf("%s: not in its service's policy", full)
		}
		class, ok := quota.Classify(full, false)
		if !ok {
			t.Errorf("%s: no class; add its verb to quota's writeVerbs, or name it Get/List/Search", full)
			continue
		}
		if class == quota.Partner || class == quota.Unauthenticated {
			t.Errorf("%s: staff call classed %s", full, class)
		}
		if partner, _ := quota.Classify(full, true); partner != quota.Partner {
			t.Errorf("%s by a partner: class %s, want partner", full, partner)
		}
		seen[class]++
	}
	return methods.Len()
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method string
		want   quota.Class
		ok     bool
	}{
		{"/passage.intake.v1.IntakeService/ListCases", quota.Read, true},
		{"/passage.intake.v1.IntakeService/GetCase", quota.Read, true},
		{"/passage.intake.v1.IntakeService/RegisterCase", quota.Write, true},
		{"/passage.returns.v1.ReturnService/RecordDeparture", quota.Write, true},
		{"/passage.intake.v1.IntakeService/SearchCases", quota.Search, true},
		{"/passage.casenote.v1.CaseNoteService/AddCaseNote", quota.Write, true},
		{"/passage.casenote.v1.CaseNoteService/EditCaseNote", quota.Write, true},
		{"/passage.document.v1.DocumentService/UploadDocument", quota.Write, true},
		{"/passage.staff.v1.StaffService/ProvisionStaff", quota.Write, true},
		{"/passage.staff.v1.StaffService/DeactivateStaff", quota.Write, true},
		{"/passage.staff.v1.StaffService/ReactivateStaff", quota.Write, true},
		{"/passage.staff.v1.StaffService/ListStaff", quota.Read, true},
		{"/passage.document.v1.DocumentService/DownloadDocument", quota.Read, true},
		{"/passage.analytics.v1.AnalyticsService/Aggregate", quota.Analytics, true},
		{"/passage.analytics.v1.AnalyticsService/ListRegions", quota.Analytics, true},
		{"/passage.intake.v1.IntakeService/Getaway", "", false},
		{"/passage.intake.v1.IntakeService/Purge", "", false},
		{"no-slash", "", false},
	}
	for _, tt := range tests {
		got, ok := quota.Classify(tt.method, false)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Classify(%s) = %s, %v; want %s, %v", tt.method, got, ok, tt.want, tt.ok)
		}
	}
}
