package demo

import (
	"github.com/passage-cm/passage/internal/enumcode"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// Figures are what a plan adds up to, keyed by the codes analytics reports (enum names
// without their prefix: "MALE", "VICTIM_OF_TRAFFICKING", "FORCED_LABOUR"; region codes:
// "EEA"). Persons returned count everyone who departed, household members included.
type Figures struct {
	AVRRCases   int
	AVRRPersons int
	// AVRRBySex, AVRRByHostRegion and AVRRByReturnRegion count persons returned.
	AVRRBySex          map[string]int
	AVRRByHostRegion   map[string]int
	AVRRByReturnRegion map[string]int
	// AVRRByVulnerability counts the persons of the cases with each vulnerability, and under
	// "NONE" those of the cases without one (a case may have several, so these do not add up
	// to AVRRPersons).
	AVRRByVulnerability map[string]int
	AVRRHostCountries   int
	AVRRReturnCountries int

	HASMApproved, HASMRejected int
	// HASMIndividuals are the persons who departed with HASM; HASMNationalities their
	// distinct nationalities.
	HASMIndividuals   int
	HASMNationalities int

	Victims           int
	VictimsIdentified int
	// VictimsByExploitation counts identified victims by type of exploitation (a victim may
	// have several).
	VictimsByExploitation map[string]int

	// ReferralsByStatus and ReferralsByPartnerType count the victims' referrals where they
	// end, and by the category of the partner they went to.
	ReferralsByStatus      map[string]int
	ReferralsByPartnerType map[string]int
}

func figuresOf(p *Plan, g *geography) Figures {
	f := Figures{
		AVRRBySex: map[string]int{}, AVRRByHostRegion: map[string]int{}, AVRRByReturnRegion: map[string]int{},
		AVRRByVulnerability: map[string]int{}, VictimsByExploitation: map[string]int{},
		ReferralsByStatus: map[string]int{}, ReferralsByPartnerType: map[string]int{},
	}
	hosts, returns := map[string]bool{}, map[string]bool{}
	for _, c := range p.AVRR {
		f.AVRRCases++
		n := len(c.People)
		f.AVRRPersons += n
		for _, person := range c.People {
			f.AVRRBySex[enumcode.Code(person.Sex)]++
		}
		f.AVRRByHostRegion[g.regionOf[c.Host]] += n
		f.AVRRByReturnRegion[g.regionOf[c.Return]] += n
		for _, v := range c.Vulnerabilities {
			f.AVRRByVulnerability[enumcode.Code(v)] += n
		}
		if len(c.Vulnerabilities) == 0 {
			f.AVRRByVulnerability["NONE"] += n
		}
		hosts[c.Host], returns[c.Return] = true, true
	}
	f.AVRRHostCountries, f.AVRRReturnCountries = len(hosts), len(returns)
	nationalities := map[string]bool{}
	for _, c := range p.HASM {
		if !c.Approve {
			f.HASMRejected++
			continue
		}
		f.HASMApproved++
		f.HASMIndividuals += len(c.People)
		for _, person := range c.People {
			nationalities[person.Nationality] = true
		}
	}
	f.HASMNationalities = len(nationalities)
	for _, v := range p.Victim {
		f.Victims++
		f.ReferralsByStatus[enumcode.Code(v.Referral)]++
		f.ReferralsByPartnerType[enumcode.Code(p.Partners[v.ReferTo].Category)]++
		if v.Identification != traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM {
			continue
		}
		f.VictimsIdentified++
		for _, t := range v.Exploitation.GetTypes() {
			f.VictimsByExploitation[enumcode.Code(t)]++
		}
	}
	return f
}
