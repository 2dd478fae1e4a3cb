package syncs

import "strings"

// defaultSources is the configured list of known CRM sources, in the order the CRM status
// table shows them.
var defaultSources = []string{
	"hubspot", "callrail", "genius", "salesrabbit", "arrivy",
	"five9", "marketsharp", "leadconduit", "salespro", "gsheet",
}

// DefaultSources returns the ten CRM sources the warehouse knows, in display order.
func DefaultSources() []string {
	return append([]string(nil), defaultSources...)
}

var displayNames = map[string]string{
	"hubspot":     "HubSpot",
	"callrail":    "CallRail",
	"genius":      "Genius",
	"salesrabbit": "SalesRabbit",
	"arrivy":      "Arrivy",
	"five9":       "Five9",
	"marketsharp": "MarketSharp",
	"leadconduit": "LeadConduit",
	"salespro":    "SalesPro",
	"gsheet":      "Google Sheets",
}

// DisplayName is how the page names a crm_source value; an unknown source is shown as
// stored.
func DisplayName(source string) string {
	if name, ok := displayNames[source]; ok {
		return name
	}
	return source
}

// SourceNamed finds the known source a person means by name: a known source or its
// display name, in any case ("HubSpot", "HUBSPOT", "Google Sheets"). It returns false for
// anything else, which callers take as written.
func SourceNamed(name string) (string, bool) {
	for _, source := range defaultSources {
		if strings.EqualFold(name, source) || strings.EqualFold(name, displayNames[source]) {
			return source, true
		}
	}
	return "", false
}
