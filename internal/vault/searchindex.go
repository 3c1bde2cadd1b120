package vault

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"google.golang.org/genproto/googleapis/type/date"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// The search kinds: blind indexes that only the person search reads (services/intake/search).
// The duplicate check at registration looks up the two kinds above and never these, so a
// tolerant match is offered to a caseworker who searches, not flagged as a duplicate.
const (
	// KindNameDateOfBirth is the normalised name (tokens sorted) and the full date of birth,
	// as stored (an unknown month or day is 00): an exact match without the nationality.
	KindNameDateOfBirth Kind = iota + 3
	// KindFoldedNameDateOfBirth is the folded name (FoldName) and the full date of birth.
	KindFoldedNameDateOfBirth
	// KindFoldedNameYearMonth is the folded name and the year and month of birth, when the
	// month is known.
	KindFoldedNameYearMonth
	// KindFoldedNameYear is the folded name and the year of birth.
	KindFoldedNameYear
	// KindNameTokenDateOfBirth is one folded name token and the full date of birth: one index
	// per distinct token, so that a typo or a missing name in the others still matches.
	KindNameTokenDateOfBirth
	// KindPhone is the phone number's last digits (normalisePhone).
	KindPhone
)

// searchKindNames are the database names of the search kinds, in Kind order from
// KindNameDateOfBirth; they must never change.
var searchKindNames = []string{"name_dob", "folded_name_dob", "folded_name_year_month", "folded_name_year",
	"name_token_dob", "phone"}

// SearchKinds lists the search kinds, in a stable order.
func SearchKinds() []Kind {
	return []Kind{KindNameDateOfBirth, KindFoldedNameDateOfBirth, KindFoldedNameYearMonth, KindFoldedNameYear,
		KindNameTokenDateOfBirth, KindPhone}
}

// SearchIndexes returns the search blind indexes of p, stored beside BlindIndexes' at
// registration and replaced with them on a correction: the name-and-date kinds when p has a
// name and a year of birth, the phone when its number has enough digits. Like BlindIndexes,
// the normalisation is part of the stored data.
func (k *Keyring) SearchIndexes(p *commonv1.Person) []BlindIndex {
	if p == nil {
		return nil
	}
	var out []BlindIndex
	out = append(out, k.NameIndexes(p.GetGivenName(), p.GetFamilyName(), p.GetDateOfBirth())...)
	if ix, ok := k.PhoneIndex(p.GetPhone()); ok {
		out = append(out, ix)
	}
	return out
}

// NameIndexes returns the name-and-date indexes of a person named given and family, born on
// dob (month and day 0 when unknown): every kind whose part of the date is known. A search
// computes the same indexes from its criteria and looks them all up; none when the given name
// holds no letter or digit, or there is no year.
func (k *Keyring) NameIndexes(given, family string, dob *date.Date) []BlindIndex {
	name := normaliseName(given, family)
	folded := FoldName(given, family)
	year, month := dob.GetYear(), dob.GetMonth()
	// A given name is required, as for the duplicate check's index.
	if normaliseName(given, "") == "" || year <= 0 {
		return nil
	}
	full := fmt.Sprintf("%04d-%02d-%02d", year, month, dob.GetDay())
	out := []BlindIndex{{Kind: KindNameDateOfBirth, Digest: k.mac("nd\x00" + name + "\x00" + full)}}
	if folded == "" {
		return out
	}
	out = append(out, BlindIndex{Kind: KindFoldedNameDateOfBirth, Digest: k.mac("fnd\x00" + folded + "\x00" + full)})
	if month > 0 {
		out = append(out, BlindIndex{Kind: KindFoldedNameYearMonth,
			Digest: k.mac(fmt.Sprintf("fnym\x00%s\x00%04d-%02d", folded, year, month))})
	}
	out = append(out, BlindIndex{Kind: KindFoldedNameYear, Digest: k.mac(fmt.Sprintf("fny\x00%s\x00%04d", folded, year))})
	for _, token := range strings.Fields(folded) {
		out = append(out, BlindIndex{Kind: KindNameTokenDateOfBirth, Digest: k.mac("ntd\x00" + token + "\x00" + full)})
	}
	return out
}

// PhoneIndex returns the phone index of number, or false when it has fewer than
// minPhoneDigits digits.
func (k *Keyring) PhoneIndex(number string) (BlindIndex, bool) {
	n := normalisePhone(number)
	if n == "" {
		return BlindIndex{}, false
	}
	return BlindIndex{Kind: KindPhone, Digest: k.mac("ph\x00" + n)}, true
}

// minPhoneDigits is the fewest digits a phone index is made of; phoneDigits, the most: the
// last eight digits are the subscriber's number in most numbering plans, so "+227 90 12 34
// 56", "00227 90123456" and "90 12 34 56" are one number.
const (
	minPhoneDigits = 6
	phoneDigits    = 8
)

// normalisePhone keeps the last phoneDigits ASCII digits of number (after folding other
// scripts' digits, e.g. Arabic-Indic, to ASCII), or returns "" when it has fewer than
// minPhoneDigits.
func normalisePhone(number string) string {
	var digits []byte
	for _, r := range number {
		if d := digitValue(r); d >= 0 {
			digits = append(digits, byte('0'+d))
		}
	}
	if len(digits) < minPhoneDigits {
		return ""
	}
	return string(digits[max(0, len(digits)-phoneDigits):])
}

// digitValue is the value of a decimal digit of any script, or -1: Unicode's decimal digits
// (Nd) come in runs of ten, each from zero to nine, some runs adjoining.
func digitValue(r rune) int {
	if !unicode.Is(unicode.Nd, r) {
		return -1
	}
	start := r
	for unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10
}

// FoldName reduces a name to its transliteration skeleton, so that the usual ways of writing
// one name in Latin letters, or in Arabic or Cyrillic script, meet: after normaliseName
// (diacritics stripped, case folded, tokens), Arabic and Cyrillic letters are transliterated,
// the common digraph variants are folded (kh→h, gh→g, sh/ch/sch→s, ph→f, th→t, dh→d, dj→j,
// q/ck/c→k, x→ks, z stays), the vowels and semi-vowels (a e i o u y w, Arabic alef, waw, ya,
// ain) are dropped, doubled letters collapse, and the tokens are sorted again. So "Mohammed",
// "Muhammad", "Mouhamed" and "محمد" all fold to "mhmd", "Khaled" and "Haled" to "hld".
//
// Dropping the vowels is the rule for Arabic names (Arabic script writes no short vowels, so
// Latin spellings differ mostly in them) and it also absorbs a one-letter typo in a vowel. A
// token with no consonant left ("Aya") keeps its vowels. Non-Latin, non-Arabic, non-Cyrillic
// letters pass through unchanged.
func FoldName(given, family string) string {
	tokens := strings.Fields(normaliseName(given, family))
	out := make([]string, 0, len(tokens))
	for _, t := range tokens {
		if f := foldToken(t); f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// foldToken folds one normalised token (see FoldName).
func foldToken(token string) string {
	latin := transliterate(token)
	for _, d := range digraphs {
		latin = strings.ReplaceAll(latin, d[0], d[1])
	}
	consonants := strings.Map(func(r rune) rune {
		if strings.ContainsRune(vowels, r) {
			return -1
		}
		return r
	}, latin)
	if consonants == "" {
		return collapse(latin)
	}
	return collapse(consonants)
}

// collapse removes doubled letters: "mhmmd" is "mhmd".
func collapse(s string) string {
	var b strings.Builder
	var last rune
	for _, r := range s {
		if r != last {
			b.WriteRune(r)
		}
		last = r
	}
	return b.String()
}

// vowels are dropped by foldToken, as is '\” (Arabic ain and hamza transliterated).
const vowels = "aeiouyw'"

// digraphs are folded in this order (longest first where one contains another).
var digraphs = [][2]string{
	{"sch", "s"}, {"kh", "h"}, {"gh", "g"}, {"sh", "s"}, {"ch", "s"}, {"ph", "f"}, {"th", "t"}, {"dh", "d"},
	{"dj", "j"}, {"ck", "k"}, {"q", "k"}, {"c", "k"}, {"x", "ks"},
}

// transliterate writes Arabic and Cyrillic letters of token in Latin, one common
// transliteration each; other letters are unchanged.
func transliterate(token string) string {
	var b strings.Builder
	for _, r := range token {
		if s, ok := translit[r]; ok {
			b.WriteString(s)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var translit = map[rune]string{
	// Arabic (after normaliseName: no harakat, no hamza above or below alef).
	'ا': "a", 'ب': "b", 'ت': "t", 'ث': "th", 'ج': "j", 'ح': "h", 'خ': "kh", 'د': "d", 'ذ': "dh",
	'ر': "r", 'ز': "z", 'س': "s", 'ش': "sh", 'ص': "s", 'ض': "d", 'ط': "t", 'ظ': "z", 'ع': "'",
	'غ': "gh", 'ف': "f", 'ق': "q", 'ك': "k", 'ل': "l", 'م': "m", 'ن': "n", 'ه': "h", 'و': "w",
	'ي': "y", 'ى': "a", 'ة': "a", 'ء': "'", 'ئ': "'", 'ؤ': "'", 'پ': "p", 'چ': "ch", 'ک': "k",
	'گ': "g", 'ی': "y",
	// Cyrillic (after case folding: lower case).
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh", 'з': "z",
	'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r",
	'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch",
	'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya", 'і': "i", 'ї': "yi", 'є': "ye",
	'ґ': "g", 'ў': "u",
}
