package demo

import "github.com/routeloop/routeloop/geo"

// The demo company works in Portland, Oregon. Coordinates are approximate
// neighbourhood centres; street names are real streets of each
// neighbourhood. House numbers are derived from a point's position on
// Portland's address grid (see gridNumber), so an address and its lat/lon
// roughly agree.

// hood is a Portland neighbourhood the demo company serves.
type hood struct {
	name    string
	center  geo.Point
	zip     string
	crew    string   // external id of the crew serving it
	cluster bool     // neighbours cluster here (the referral program's home turf)
	streets []string // named streets, each with its quadrant prefix
	// avenues says whether numbered avenues (SE 15th Ave) exist here.
	avenues bool
}

var hoods = []hood{
	// North crew: North Portland and inner Northeast.
	{name: "St. Johns", center: geo.Point{Lat: 45.5895, Lon: -122.7525}, zip: "97203", crew: "crew-north", cluster: true,
		streets: []string{"N Central St", "N Syracuse St", "N Edison St", "N Smith St", "N Hudson St", "N Buchanan Ave",
			"N Charleston Ave", "N Burlington Ave", "N Richmond Ave", "N Polk Ave", "N Leonard St", "N Fessenden St"}},
	{name: "Irvington", center: geo.Point{Lat: 45.5425, Lon: -122.6470}, zip: "97212", crew: "crew-north", cluster: true, avenues: true,
		streets: []string{"NE Tillamook St", "NE Thompson St", "NE Brazee St", "NE Knott St", "NE Stanton St",
			"NE Siskiyou St", "NE Schuyler St", "NE Hancock St", "NE Klickitat St"}},
	{name: "Kenton", center: geo.Point{Lat: 45.5830, Lon: -122.6865}, zip: "97217", crew: "crew-north",
		streets: []string{"N Denver Ave", "N Kilpatrick St", "N Willis Blvd", "N McClellan St", "N Fenwick Ave",
			"N Brandon Ave", "N Delaware Ave", "N Russet St"}},
	{name: "Arbor Lodge", center: geo.Point{Lat: 45.5705, Lon: -122.6925}, zip: "97217", crew: "crew-north",
		streets: []string{"N Bryant St", "N Dekum St", "N Holman St", "N Concord Ave", "N Curtis Ave", "N Wabash Ave",
			"N Rosa Parks Way"}},
	{name: "Alberta Arts", center: geo.Point{Lat: 45.5590, Lon: -122.6455}, zip: "97211", crew: "crew-north", avenues: true,
		streets: []string{"NE Going St", "NE Wygant St", "NE Emerson St", "NE Sumner St", "NE Jarrett St",
			"NE Alberta St", "NE Humboldt St"}},

	// East crew: the inner east side.
	{name: "Laurelhurst", center: geo.Point{Lat: 45.5265, Lon: -122.6265}, zip: "97232", crew: "crew-east", cluster: true, avenues: true,
		streets: []string{"NE Couch St", "NE Davis St", "NE Everett St", "NE Flanders St", "NE Glisan St",
			"NE Hazelfern Pl", "NE Laddington Ct", "NE Royal Ct", "SE Ankeny St", "SE Pine St", "SE Oak St",
			"SE Laurelhurst Pl", "SE Stark St"}},
	{name: "Hawthorne-Richmond", center: geo.Point{Lat: 45.5040, Lon: -122.6245}, zip: "97214", crew: "crew-east", cluster: true, avenues: true,
		streets: []string{"SE Lincoln St", "SE Harrison St", "SE Clinton St", "SE Grant St", "SE Caruthers St",
			"SE Sherman St", "SE Stephens St", "SE Market St", "SE Salmon St", "SE Taylor St", "SE Tibbetts St",
			"SE Brooklyn St", "SE Woodward St"}},
	{name: "Mount Tabor", center: geo.Point{Lat: 45.5170, Lon: -122.5975}, zip: "97215", crew: "crew-east", avenues: true,
		streets: []string{"SE Yamhill St", "SE Main St", "SE Madison St", "SE Alder St", "SE Belmont St",
			"SE Morrison St", "NE Glisan St", "NE Davis St"}},
	{name: "Rose City Park", center: geo.Point{Lat: 45.5390, Lon: -122.6000}, zip: "97213", crew: "crew-east", avenues: true,
		streets: []string{"NE Tillamook St", "NE Hancock St", "NE Thompson St", "NE Sacramento St", "NE Siskiyou St",
			"NE Klickitat St", "NE Alameda St"}},

	// South crew: Sellwood and its neighbours.
	{name: "Sellwood-Moreland", center: geo.Point{Lat: 45.4680, Lon: -122.6490}, zip: "97202", crew: "crew-south", cluster: true, avenues: true,
		streets: []string{"SE Tenino St", "SE Umatilla St", "SE Spokane St", "SE Nehalem St", "SE Lambert St",
			"SE Harney St", "SE Clatsop St", "SE Miller St", "SE Marion St", "SE Tacoma St", "SE Bybee Blvd",
			"SE Knapp St", "SE Lexington St"}},
	{name: "Eastmoreland", center: geo.Point{Lat: 45.4790, Lon: -122.6330}, zip: "97202", crew: "crew-south", cluster: true, avenues: true,
		streets: []string{"SE Reed College Pl", "SE Berkeley Pl", "SE Rex St", "SE Knapp St", "SE Martins St",
			"SE Crystal Springs Blvd", "SE Ogden St", "SE Carlton St"}},
	{name: "Woodstock", center: geo.Point{Lat: 45.4785, Lon: -122.6130}, zip: "97206", crew: "crew-south", avenues: true,
		streets: []string{"SE Steele St", "SE Ramona St", "SE Knight St", "SE Martins St", "SE Ogden St",
			"SE Raymond St", "SE Tolman St"}},

	// West crew: the southwest hills.
	{name: "Multnomah Village", center: geo.Point{Lat: 45.4670, Lon: -122.7125}, zip: "97219", crew: "crew-west", cluster: true, avenues: true,
		streets: []string{"SW Troy St", "SW Freeman St", "SW Moss St", "SW Idaho St", "SW Nevada St",
			"SW Canby St", "SW Custer St", "SW Dickinson St", "SW Marigold St", "SW Multnomah Blvd"}},
	{name: "Hillsdale", center: geo.Point{Lat: 45.4795, Lon: -122.6975}, zip: "97239", crew: "crew-west", cluster: true, avenues: true,
		streets: []string{"SW Dolph Ct", "SW Vermont St", "SW Cheltenham St", "SW Chestnut St", "SW Hamilton St",
			"SW Iowa St", "SW Nevada Ct", "SW Sunset Blvd"}},
	{name: "South Burlingame", center: geo.Point{Lat: 45.4625, Lon: -122.6880}, zip: "97219", crew: "crew-west", avenues: true,
		streets: []string{"SW Taylors Ferry Rd", "SW Huber St", "SW Collins St", "SW Pomona St", "SW Nevada St",
			"SW Palatine St"}},
}

// crewSpec is one of the demo company's crews.
type crewSpec struct {
	id      string
	name    string
	depot   geo.Point
	yard    string // where the depot is, for people
	members [][2]string
}

// Depots sit in industrial areas near each crew's neighbourhoods.
var crews = []crewSpec{
	{id: "crew-north", name: "North Crew", depot: geo.Point{Lat: 45.5622, Lon: -122.7108}, yard: "N Going St, Swan Island",
		members: [][2]string{{"Marisol Vega", "marisol"}, {"Tyler Okafor", "tyler"}, {"Jun Park", "jun"}}},
	{id: "crew-east", name: "East Crew", depot: geo.Point{Lat: 45.5148, Lon: -122.6618}, yard: "SE Salmon St, Central Eastside",
		members: [][2]string{{"Devon Carter", "devon"}, {"Aaliyah Brooks", "aaliyah"}}},
	{id: "crew-south", name: "South Crew", depot: geo.Point{Lat: 45.4938, Lon: -122.6490}, yard: "SE Holgate Blvd, Brooklyn rail yard",
		members: [][2]string{{"Hector Ramirez", "hector"}, {"Liam O'Connor", "liam"}, {"Priya Nair", "priya"}}},
	{id: "crew-west", name: "West Crew", depot: geo.Point{Lat: 45.4805, Lon: -122.6742}, yard: "SW Macadam Ave, Johns Landing",
		members: [][2]string{{"Sam Whitfield", "sam"}, {"Rosa Delgado", "rosa"}}},
}

// servicePlan is what a customer buys each visit.
type servicePlan struct {
	name                   string
	minCents, maxCents     int64
	minMinutes, maxMinutes int
	weight                 int
}

var plans = []servicePlan{
	{name: "Mow, edge & blow", minCents: 4500, maxCents: 6000, minMinutes: 20, maxMinutes: 25, weight: 5},
	{name: "Mow, edge, blow & bed weeding", minCents: 6000, maxCents: 7500, minMinutes: 25, maxMinutes: 30, weight: 3},
	{name: "Full-service lawn & garden care", minCents: 7500, maxCents: 9500, minMinutes: 30, maxMinutes: 35, weight: 2},
}

var firstNames = []string{
	"Dana", "Marcus", "Elena", "Jamal", "Hannah", "Owen", "Sofia", "Caleb", "Naomi", "Trevor", "Keiko", "Luis",
	"Megan", "Andre", "Ingrid", "Raj", "Beth", "Diego", "Claire", "Tomás", "Grace", "Malik", "Yuki", "Patrick",
	"Leah", "Omar", "Rebecca", "Sean", "Fatima", "Gavin", "Amara", "Nolan", "Julia", "Kwame", "Heather", "Ethan",
	"Mei", "Brandon", "Rachel", "Victor", "Chloe", "Darius", "Ana", "Colin", "Erin", "Hiro", "Lauren", "Miguel",
	"Tessa", "Jordan", "Nadia", "Russell", "Ivy", "Felix", "Paige", "Samir", "Wendy", "Graham", "Lucia", "Brett",
}

var lastNames = []string{
	"Whitaker", "Nguyen", "Larsen", "Okafor", "Schmidt", "Hernandez", "Kowalski", "Bennett", "Tanaka", "Sullivan",
	"Patel", "Johansson", "Reyes", "Morrison", "Chen", "Adeyemi", "Fischer", "Gallagher", "Kim", "Lindqvist",
	"Ortiz", "Brennan", "Yamamoto", "Dubois", "Washington", "Novak", "Haugen", "Castillo", "Murphy", "Singh",
	"Petrov", "Alvarez", "Hughes", "Nakamura", "Olsen", "Rossi", "Ferguson", "Tran", "Abbott", "Mendoza",
	"Carlson", "Osei", "Walsh", "Yilmaz", "Harper", "Lund", "Romero", "Fitzgerald", "Le", "Bauer",
	"Delgado", "Ingram", "Soto", "McKenzie", "Park", "Holloway", "Vasquez", "Strand", "O'Neill", "Ramos",
}

var emailDomains = []string{"example.com", "example.net", "example.org"}
