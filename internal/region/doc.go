// Package region is the IOM regional-office grouping of countries that HQ analytics reports
// by ("returns from the EU, Norway and Switzerland", "to South-Eastern Europe, Eastern Europe
// and Central Asia"): reference data in one place, regions.json, embedded in the binary.
//
// Nine regions, one per regional office as IOM was organised from 2011 (and in 2015, the
// year of the seed's figures): Brussels (EEA), Vienna (SEEECA), Cairo (MENA), Bangkok (APAC),
// Dakar (WCA), Nairobi (EHoA), Pretoria (SA), San José (CNAC) and Buenos Aires (SAM). In 2024
// IOM merged Brussels into Vienna and the two American offices into one in Panama; the
// statistics keep the nine, because the published series (the seed's included) use them
// and a merged region can be had by adding two.
//
// # Source, and what was checked (27 November 2026)
//
// Each region in regions.json lists its countries in two parts: "listed", read on IOM's own
// pages, and "judged", placed by a stated rule, each with its reason.
//   - The nine offices and their areas: iom.int/countries ("The nine Regional Offices and
//     their geographical coverage").
//   - Vienna: rovienna.iom.int/about-rovienna lists its 20 countries and territories,
//     including Israel and Turkey; the twentieth, Kosovo (UNSC resolution 1244), has no
//     ISO 3166-1 code and Passage does not accept "XKX" (internal/country).
//   - Brussels: the office's 2020–2024 strategy, "European Economic Area, Switzerland and
//     the United Kingdom": the EU's 27, Iceland, Liechtenstein and Norway, Switzerland, the
//     United Kingdom.
//   - Nairobi: eastandhornofafrica.iom.int lists its ten countries.
//   - Pretoria: ropretoria.iom.int names 14 of its 15 countries, the Democratic Republic of
//     the Congo among them; Eswatini, the SADC member left, is judged the fifteenth.
//   - Buenos Aires: robuenosaires.iom.int lists its ten countries, and an IOM strategy
//     says that Guyana and Suriname are coordinated from San José.
//   - San José: IOM's Mesoamerica programme page lists Mexico, Central America, the
//     Dominican Republic, Haiti, Dominica, Guyana; the rest of the Caribbean, Canada and the
//     United States are judged from the office's name.
//   - Cairo: its pages name Algeria, Bahrain, Egypt, Iraq, Jordan, Kuwait, Lebanon, Saudi
//     Arabia, and the crises it supports in Libya, Sudan, Syria and Yemen; the other Gulf
//     states, Morocco, Tunisia, Western Sahara and Palestine are judged.
//   - Dakar: its pages say it covers 23 countries without naming them; the 23 judged are
//     ECOWAS, Mauritania and ECCAS less those with Pretoria and Nairobi, which makes 23.
//   - Bangkok: no member list was found; UN M49 South, South-East and East Asia and Oceania
//     are judged, with Iran (taken to report to Bangkok, not verified).
//
// # Judgements
//   - The seed's host region "EU, Norway and Switzerland" is EEA here. The United Kingdom
//     (in the EU in 2015, and with the Brussels office after), Iceland and Liechtenstein
//     (EEA members) belong to it too; their AVRR numbers are small and a region that left
//     them out would leave them nowhere.
//   - European microstates (Andorra, Monaco, San Marino, the Holy See) and the European
//     territories of EEA states and the UK (Åland, the Faroes, Svalbard, Gibraltar, the Crown
//     dependencies) are EEA.
//   - France's outermost regions (Guadeloupe, French Guiana, Martinique, Mayotte, Réunion,
//     Saint-Martin) are EU territory where EU return law applies: EEA, not their geography.
//     Every other territory follows its geography (Greenland, not EU territory, is CNAC).
//   - Uninhabited codes (Antarctica, Bouvet, Heard and McDonald, the French Southern
//     Territories, South Georgia) sit in the nearest region only so that every accepted code
//     has exactly one; a count there would be a data error.
//
// A test proves that every country internal/country accepts is in exactly one region.
// Changing the grouping changes every published series: do it in regions.json, with the
// date and the source, and say so in the release notes.
package region
