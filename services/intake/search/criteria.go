package search

import (
	"time"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	searchv1 "github.com/passage-cm/passage/proto/gen/passage/search/v1"
)

// lookup is a validated criterion as the database sees it: the digests to look up and, for
// the audit record, the kind of criterion (a code, never a value).
type lookup struct {
	digests     [][]byte
	nationality string // "" for any
	by          string
}

// ranked lists the index kinds a search reads, closest match first: a hit's rank is its
// kind's position, and rules gives each position's MatchRule.
var ranked = []vault.Kind{
	vault.KindDocument, vault.KindPhone, vault.KindNameDateOfBirth,
	vault.KindFoldedNameDateOfBirth,
	vault.KindFoldedNameYearMonth, vault.KindFoldedNameYear,
	vault.KindNameTokenDateOfBirth,
}

var rules = []searchv1.MatchRule{
	searchv1.MatchRule_MATCH_RULE_EXACT, searchv1.MatchRule_MATCH_RULE_EXACT, searchv1.MatchRule_MATCH_RULE_EXACT,
	searchv1.MatchRule_MATCH_RULE_TRANSLITERATION,
	searchv1.MatchRule_MATCH_RULE_PARTIAL_DATE_OF_BIRTH, searchv1.MatchRule_MATCH_RULE_PARTIAL_DATE_OF_BIRTH,
	searchv1.MatchRule_MATCH_RULE_ONE_NAME,
}

// rankedKinds is ranked as the database names the kinds.
var rankedKinds = func() []string {
	out := make([]string, len(ranked))
	for i, k := range ranked {
		out[i] = k.String()
	}
	return out
}()

// criterion checks req's criterion beyond its .proto rules and computes its digests. A bad
// field is an InvalidArgument naming it, never quoting it.
func (s *Service) criterion(req *searchv1.SearchPersonsRequest, today time.Time) (lookup, error) {
	var v rpcerr.Violations
	var l lookup
	switch c := req.GetCriterion().(type) {
	case *searchv1.SearchPersonsRequest_Document:
		s.addDocument(&l, &v, c.Document)
	case *searchv1.SearchPersonsRequest_Phone:
		l.by = "phone"
		if ix, ok := s.keys.PhoneIndex(c.Phone); ok {
			l.digests = append(l.digests, ix.Digest)
		} else {
			v.Add("phone", "must contain at least six digits")
		}
	case *searchv1.SearchPersonsRequest_Name:
		n := c.Name
		l.by, l.nationality = "name_date_of_birth", n.GetNationality()
		dob := n.GetDateOfBirth()
		err := civildate.Check(dob)
		if err == nil {
			err = civildate.NotAfter(dob, today)
		}
		if err != nil {
			v.Add("name.date_of_birth", err.Error())
			break
		}
		ixs := s.keys.NameIndexes(n.GetGivenName(), n.GetFamilyName(), dob)
		if len(ixs) == 0 {
			v.Add("name.given_name", "must contain a letter or a digit")
		}
		for _, ix := range ixs {
			l.digests = append(l.digests, ix.Digest)
		}
	default:
		v.Add("criterion", "is required: document, name or phone")
	}
	return l, v.Err()
}

// addDocument adds d's index digest to l, the criterion of both searches by document, or a
// violation naming the number when it has nothing to compare.
func (s *Service) addDocument(l *lookup, v *rpcerr.Violations, d *commonv1.IdentityDocument) {
	l.by = "document"
	if ix, ok := s.keys.DocumentIndex(d.GetIssuingCountry(), d.GetNumber()); ok {
		l.digests = append(l.digests, ix.Digest)
	} else {
		v.Add("document.number", "must contain a letter or a digit")
	}
}
