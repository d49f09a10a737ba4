package sandbox

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// The seed data: an account that looks like a Sun Belt pool-service
// company's. Phone numbers use the 555-01xx range set aside for fiction and
// emails the example.* domains, so no real person is ever addressed.

type city struct {
	name, state, zip string
	lat, lon         float64
	areaCodes        []string
}

var cities = []city{
	{"Phoenix", "AZ", "850", 33.4484, -112.0740, []string{"602", "480"}},
	{"Scottsdale", "AZ", "852", 33.4942, -111.9261, []string{"480"}},
	{"Mesa", "AZ", "852", 33.4152, -111.8315, []string{"480"}},
	{"Tucson", "AZ", "857", 32.2226, -110.9747, []string{"520"}},
	{"Las Vegas", "NV", "891", 36.1699, -115.1398, []string{"702"}},
	{"Henderson", "NV", "890", 36.0395, -114.9817, []string{"702"}},
	{"San Diego", "CA", "921", 32.7157, -117.1611, []string{"619", "858"}},
	{"Palm Springs", "CA", "922", 33.8303, -116.5453, []string{"760"}},
	{"Los Angeles", "CA", "900", 34.0522, -118.2437, []string{"213", "310"}},
	{"Sacramento", "CA", "958", 38.5816, -121.4944, []string{"916"}},
	{"Houston", "TX", "770", 29.7604, -95.3698, []string{"713", "281"}},
	{"Austin", "TX", "787", 30.2672, -97.7431, []string{"512"}},
	{"Dallas", "TX", "752", 32.7767, -96.7970, []string{"214", "972"}},
	{"San Antonio", "TX", "782", 29.4241, -98.4936, []string{"210"}},
	{"Miami", "FL", "331", 25.7617, -80.1918, []string{"305", "786"}},
	{"Fort Lauderdale", "FL", "333", 26.1224, -80.1373, []string{"954"}},
	{"Orlando", "FL", "328", 28.5383, -81.3792, []string{"407"}},
	{"Tampa", "FL", "336", 27.9506, -82.4572, []string{"813"}},
	{"Naples", "FL", "341", 26.1420, -81.7948, []string{"239"}},
	{"Jacksonville", "FL", "322", 30.3322, -81.6557, []string{"904"}},
	{"Atlanta", "GA", "303", 33.7490, -84.3880, []string{"404", "770"}},
	{"Charlotte", "NC", "282", 35.2271, -80.8431, []string{"704"}},
	{"Myrtle Beach", "SC", "295", 33.6891, -78.8867, []string{"843"}},
	{"Baton Rouge", "LA", "708", 30.4515, -91.1871, []string{"225"}},
}

var firstNames = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen",
	"Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Sandra", "Steven", "Ashley",
	"Andrew", "Kimberly", "Joshua", "Emily", "Kevin", "Donna", "Brian", "Michelle", "George", "Carol",
	"Luis", "Amanda", "Jose", "Melissa", "Ryan", "Deborah", "Jacob", "Stephanie", "Gary", "Rebecca",
	"Nicholas", "Laura", "Eric", "Sharon", "Jonathan", "Cynthia", "Juan", "Kathleen", "Diego", "Maria",
	"Wei", "Priya", "Ahmed", "Mei", "Raj", "Olga", "Tyrone", "Keisha", "Hiroshi", "Aisha",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"O'Brien", "Patel", "Kim", "Chen", "Okafor", "Schmidt", "Kowalski", "Rossi", "Dubois", "Sullivan",
}

var streets = []string{
	"Palm", "Ocean", "Desert Willow", "Mesquite", "Saguaro", "Bayshore", "Magnolia", "Live Oak", "Cypress",
	"Sunset", "Camelback", "Indian School", "Coral Reef", "Lakeview", "Harbor", "Bluebonnet", "Peachtree",
	"Mission", "Vista Del Mar", "Hibiscus", "Sea Grape", "Cactus Wren", "Pinnacle Peak", "Shea",
}

// streetKinds end every address, so no street name above may end in one
// ("Coral Way Way"); a test holds that.
var streetKinds = []string{"St", "Ave", "Dr", "Blvd", "Ln", "Ct", "Way", "Rd", "Cir", "Pl"}

var companyPatterns = []string{
	"%s Property Management", "%s Family Trust", "%s HOA", "%s Apartments", "%s Swim Club",
	"%s Resort & Spa", "%s Condominiums", "%s Fitness Center", "%s Racquet Club", "%s Villas",
}

var companyWords = []string{
	"Sunset Palms", "Desert Oasis", "Blue Lagoon", "Coral Reef", "Lakeside", "Canyon View", "Seabreeze",
	"Royal Palm", "Mission Hills", "Paradise Valley", "Harbor Point", "Willow Creek", "Sandpiper", "Saguaro Ridge",
}

var tagNames = []string{"Weekly", "Bi-Weekly", "Monthly", "Residential", "Commercial", "Salt Water", "Chlorine",
	"Spa", "VIP", "Autopay", "Green Pool", "Filter Clean", "Seasonal"}

var leadSources = []string{"Google", "Referral", "Yelp", "Door Hanger", "Website", "Nextdoor", "Facebook"}

var phoneLabels = []string{"Mobile", "Cell", "Husband", "Wife", "Office", "Manager"}

var dogNames = []string{"Max", "Bella", "Luna", "Charlie", "Cooper", "Daisy", "Rocky", "Bailey", "Zeus", "Lola"}

var customerNotes = []string{
	"Prefers service on Tuesdays.", "Call before arriving; gate is locked on weekends.",
	"Has an automatic pool cover.", "Pays by check, mails monthly.", "Snowbird: away May through October.",
	"Pool heater acts up in winter.", "Neighbor's cat likes the pool deck.", "Salt cell replaced in March.",
}

var locationNotes = []string{
	"Side gate sticks; lift the latch.", "Equipment pad behind the garage.", "Use the hose bib by the patio.",
	"Spa spillover; check the jets.", "Skimmer lid cracked, replacement ordered.", "Leave the backwash valve closed.",
}

var staff = []string{"Maria Lopez", "Tom Becker", "Dana Whitfield", "Jorge Alvarez", "Priya Shah"}

type manualEntry struct{ kind, title, description string }

var manualEntries = []manualEntry{
	{"Call", "Called about green water", "Customer reports the pool turned green after the storm; scheduled a shock treatment."},
	{"Call", "Left voicemail", ""},
	{"Call", "Discussed filter replacement", "Cartridge filter is 4 years old; quoted a replacement."},
	{"Call", "Rescheduled service", "Moved this week's visit to Thursday at the customer's request."},
	{"Text", "Sent service reminder", "Reminder sent for tomorrow's visit."},
	{"Text", "Gate code updated", "Customer texted a new gate code."},
	{"Text", "Photo of equipment", "Customer sent a photo of a leaking pump seal."},
	{"Email", "Sent chemical quote", "Quoted a season's supply of chlorine tabs and stabilizer."},
	{"Email", "Welcome email", "Sent welcome packet and service agreement."},
	{"Email", "Invoice question", "Customer asked about a duplicate charge; explained the prorated month."},
	{"Other", "Site visit notes", "Tile line needs cleaning; recommended a bead blast."},
	{"Other", "Equipment check", "Pump running loud; bearing noise suspected."},
}

type systemEntry struct{ kind, title, related string }

var systemEntries = []systemEntry{
	{"Invoice", "Invoice sent", "Invoice"},
	{"Payment", "Payment received", "Payment"},
	{"Quote", "Quote accepted", "Quote"},
	{"Job", "Work order completed", "Job"},
	{"PaymentMethod", "Card on file updated", "PaymentMethod"},
}

// generate builds an account of n customers. The same seed, n and now give
// the same account, byte for byte.
func generate(seed int64, n int, now time.Time) state {
	g := &gen{rng: rand.New(rand.NewPCG(uint64(seed), 0xacc0)), now: now.UTC().Truncate(time.Second)}
	st := state{ActivityLogs: map[string][]*skimmer.ActivityLog{}}
	for _, name := range tagNames {
		st.Tags = append(st.Tags, skimmer.Tag{ID: g.id(), Name: name})
	}
	for i := range n {
		c, logs := g.customer(i, st.Tags)
		st.Customers = append(st.Customers, c)
		if len(logs) > 0 {
			st.ActivityLogs[c.ID] = logs
		}
	}
	return st
}

type gen struct {
	rng *rand.Rand
	now time.Time
}

func hexID(rng *rand.Rand) string { return fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()) }

func (g *gen) id() string                 { return hexID(g.rng) }
func (g *gen) pick(list []string) string  { return list[g.rng.IntN(len(list))] }
func (g *gen) chance(p float64) bool      { return g.rng.Float64() < p }
func (g *gen) num(lo, hi float64) float64 { return math.Round((lo+g.rng.Float64()*(hi-lo))*100) / 100 }

// between returns a time in [from, to), to the second.
func (g *gen) between(from, to time.Time) time.Time {
	span := to.Sub(from)
	if span <= 0 {
		return from
	}
	return from.Add(time.Duration(g.rng.Int64N(int64(span)))).Truncate(time.Second)
}

func (g *gen) phone(c city) *string {
	return ptr(fmt.Sprintf("(%s) 555-01%02d", g.pick(c.areaCodes), g.rng.IntN(100)))
}

func (g *gen) address() string {
	return fmt.Sprintf("%d %s %s", 100+g.rng.IntN(19800), g.pick(streets), g.pick(streetKinds))
}

func (g *gen) customer(i int, tags []skimmer.Tag) (*skimmer.Customer, []*skimmer.ActivityLog) {
	home := cities[g.rng.IntN(len(cities))]
	created := g.between(g.now.AddDate(-5, 0, 0), g.now.AddDate(0, 0, -1))
	c := &skimmer.Customer{
		ID:        g.id(),
		CreatedAt: skimmer.Time{Time: created},
		UpdatedAt: skimmer.Time{Time: g.between(created, g.now)},
	}
	first, last := g.pick(firstNames), g.pick(lastNames)
	c.FirstName, c.LastName = ptr(first), ptr(last)
	commercial := g.chance(0.18)
	if commercial {
		c.CompanyName = ptr(fmt.Sprintf(g.pick(companyPatterns), g.pick(companyWords)))
		c.DisplayAsCompany = true
	}
	c.BillingAddress = ptr(g.address())
	c.BillingCity, c.BillingState = ptr(home.name), ptr(home.state)
	c.BillingZip = ptr(fmt.Sprintf("%s%02d", home.zip, g.rng.IntN(100)))
	c.MobilePhone = g.phone(home)
	c.MobileLabel1 = ptr(g.pick(phoneLabels))
	c.MobilePhoneSendServiceTexts = g.chance(0.7)
	if g.chance(0.25) {
		c.MobilePhone2 = g.phone(home)
		c.MobileLabel2 = ptr(g.pick(phoneLabels))
	}
	if g.chance(0.2) {
		c.HomePhone = g.phone(home)
	}
	if commercial || g.chance(0.1) {
		c.WorkPhone = g.phone(home)
	}
	handle := strings.ToLower(strings.NewReplacer("'", "", " ", "").Replace(first + "." + last))
	domains := []string{"example.com", "example.net", "example.org"}
	if g.chance(0.9) {
		c.PrimaryEmail = ptr(fmt.Sprintf("%s%d@%s", handle, g.rng.IntN(100), g.pick(domains)))
		c.PrimaryEmailIsBilling = g.chance(0.8)
	}
	if g.chance(0.2) {
		c.SecondaryEmail = ptr(fmt.Sprintf("%s.%s@%s", strings.ToLower(first[:1]), strings.ToLower(strings.ReplaceAll(last, "'", "")), g.pick(domains)))
		c.SecondaryEmailIsBilling = g.chance(0.3)
	}
	if commercial && g.chance(0.5) {
		c.Email3 = ptr(fmt.Sprintf("billing%d@%s", i, g.pick(domains)))
		c.Email3IsBilling = true
	}
	if g.chance(0.3) {
		c.Notes = ptr(g.pick(customerNotes))
	}
	c.CustomerCode = ptr(fmt.Sprintf("C-%05d", 10000+i))
	c.AccountCredit = 0
	if g.chance(0.1) {
		c.AccountCredit = g.num(5, 250)
	}
	c.Tags = g.tags(tags, commercial)
	switch {
	case g.chance(0.08):
		c.IsLead = true
		src := g.pick(leadSources)
		c.LeadSourceName, c.LeadSourceID = ptr(src), ptr(g.id())
	case g.chance(0.04):
		c.Deleted, c.IsInactive = true, true
	case g.chance(0.1):
		c.IsInactive = true
	}
	locations := 1
	if commercial || g.chance(0.12) {
		locations += 1 + g.rng.IntN(2)
	}
	for l := range locations {
		c.ServiceLocations = append(c.ServiceLocations, g.location(c, home, l))
	}
	return c, g.activity(c)
}

func (g *gen) tags(all []skimmer.Tag, commercial bool) []skimmer.Tag {
	out := []skimmer.Tag{all[g.rng.IntN(3)]} // a frequency tag
	kind := "Residential"
	if commercial {
		kind = "Commercial"
	}
	for _, t := range all {
		if t.Name == kind {
			out = append(out, t)
		}
	}
	if g.chance(0.5) {
		extra := all[5+g.rng.IntN(len(all)-5)]
		out = append(out, extra)
	}
	return out
}

func (g *gen) location(c *skimmer.Customer, home city, n int) skimmer.ServiceLocation {
	addr := *c.BillingAddress
	if n > 0 {
		addr = g.address()
	}
	minutes := 15 + 5*g.rng.IntN(10)
	loc := skimmer.ServiceLocation{
		ID: g.id(), CustomerID: c.ID,
		Address: ptr(addr), City: ptr(home.name), State: ptr(home.state), Zip: c.BillingZip,
		Latitude:      ptr(math.Round((home.lat+g.num(-0.12, 0.12))*1e6) / 1e6),
		Longitude:     ptr(math.Round((home.lon+g.num(-0.12, 0.12))*1e6) / 1e6),
		MinutesAtStop: &minutes,
		LocationCode:  ptr(fmt.Sprintf("%s-%d", *c.CustomerCode, n+1)),
	}
	rateType := skimmer.RateTypes[1+g.rng.IntN(len(skimmer.RateTypes)-1)]
	loc.RateType = ptr(rateType)
	if strings.HasPrefix(rateType, "Flat") {
		loc.Rate = ptr(g.num(120, 320))
	} else {
		loc.Rate = ptr(g.num(25, 75))
	}
	loc.LaborCostType = ptr(skimmer.LaborCostTypes[1+g.rng.IntN(2)])
	loc.LaborCost = ptr(g.num(12, 40))
	if g.chance(0.5) {
		loc.GateCode = ptr(fmt.Sprintf("%04d#", g.rng.IntN(10000)))
	}
	if g.chance(0.25) {
		loc.DogsName = ptr(g.pick(dogNames))
	}
	if g.chance(0.35) {
		loc.Notes = ptr(g.pick(locationNotes))
	}
	return loc
}

func (g *gen) activity(c *skimmer.Customer) []*skimmer.ActivityLog {
	var logs []*skimmer.ActivityLog
	for range g.rng.IntN(7) {
		e := manualEntries[g.rng.IntN(len(manualEntries))]
		at := g.between(c.CreatedAt.Time, g.now)
		by := g.pick(staff)
		l := &skimmer.ActivityLog{
			CustomerID: c.ID, ID: g.id(), Type: e.kind, Title: e.title,
			CreatedByName: ptr(by), CreatedAt: skimmer.Time{Time: at},
			UpdatedByName: ptr(by), UpdatedAt: skimmer.Time{Time: at},
		}
		if e.description != "" {
			l.Description = ptr(e.description)
		}
		logs = append(logs, l)
	}
	for range g.rng.IntN(5) {
		e := systemEntries[g.rng.IntN(len(systemEntries))]
		at := g.between(c.CreatedAt.Time, g.now)
		num := 1000 + g.rng.IntN(9000)
		l := &skimmer.ActivityLog{
			CustomerID: c.ID, ID: g.id(), Type: e.kind, Title: e.title, IsSystemGenerated: true,
			RelatedEntityID: ptr(g.id()), RelatedEntityType: ptr(e.related),
			RelatedEntityDisplay: ptr(fmt.Sprintf("%s #%d", e.related, num)),
			CreatedByName:        ptr(skimmer.ActivityDefaultAuthor), CreatedAt: skimmer.Time{Time: at},
			UpdatedByName: ptr(skimmer.ActivityDefaultAuthor), UpdatedAt: skimmer.Time{Time: at},
		}
		if e.related == "Payment" {
			l.SecondaryRelatedEntityID, l.SecondaryRelatedEntityType = ptr(g.id()), ptr("Invoice")
			l.SecondaryRelatedEntityDisplay = ptr(fmt.Sprintf("Invoice #%d", num-1))
		}
		logs = append(logs, l)
	}
	// Stored oldest first, as entries are appended.
	slices.SortStableFunc(logs, func(a, b *skimmer.ActivityLog) int { return a.CreatedAt.Compare(b.CreatedAt.Time) })
	return logs
}

func ptr[T any](v T) *T { return &v }
