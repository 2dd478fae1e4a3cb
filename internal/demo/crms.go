package demo

import "time"

// entity is one sync_type of a CRM: how many records an hourly run of it usually sees at
// a busy hour, and how long it usually takes.
type entity struct {
	name     string
	records  float64       // records of a typical busy-hour delta run
	duration time.Duration // time of a typical busy-hour delta run
	endpoint string        // the API it reads; "" for a database sync (NULL)
	// engineB marks the entities synced by the newer Genius engine, which writes
	// in_progress while it runs and completed when it succeeds.
	engineB bool
}

// crm is one CRM source as the demo knows it: when Celery beat sends its hourly "sync
// all" task, what that task syncs, how often it fails on its own and how it fails.
type crm struct {
	source string
	index  int // a small number of its own, for the random sources
	minute int // the minute of the hour of its hourly sync
	hourly []entity
	// every4h are synced by the hourly task only at hours divisible by four: reference
	// tables that hardly change.
	every4h []entity
	// summary makes the hourly task write a row for itself ("all") besides one per
	// entity, as the Genius engine does.
	summary bool
	// failRate is the chance that a run fails on its own, outside an outage.
	failRate float64
	// sporadic are the error kinds of a single failed run; outage those of a bad
	// stretch of hours in which every run of the CRM fails the same way.
	sporadic []kind
	outage   []kind
	host     string // the API host named in its messages
}

// The CRMs of real-world-facts.md in the order of their minute past the hour. MarketSharp
// is configured (it has a schedule, disabled) but writes no rows. These tables are
// constants in all but name: nothing writes to them.
var crms = []*crm{
	{
		source: "hubspot", index: 0, minute: 0, host: "api.hubapi.com", failRate: 0.008,
		hourly: []entity{
			{name: "contacts", records: 1500, duration: 95 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/objects/contacts"},
			{name: "companies", records: 320, duration: 28 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/objects/companies"},
			{name: "deals", records: 210, duration: 24 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/objects/deals"},
			{name: "line_items", records: 380, duration: 21 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/objects/line_items"},
			{name: "products", records: 12, duration: 3 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/objects/products"},
			{name: "calls", records: 420, duration: 31 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/objects/calls"},
			{name: "emails", records: 640, duration: 44 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/objects/emails"},
			{name: "meetings", records: 130, duration: 12 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/objects/meetings"},
			{name: "notes", records: 260, duration: 17 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/objects/notes"},
			{name: "tasks", records: 190, duration: 14 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/objects/tasks"},
			{name: "owners", records: 45, duration: 2 * time.Second, endpoint: "https://api.hubapi.com/crm/v3/owners"},
			{name: "pipelines", records: 14, duration: 1200 * time.Millisecond, endpoint: "https://api.hubapi.com/crm/v3/pipelines/deals"},
		},
		sporadic: []kind{kindHTTP429, kindReadTimeout, kindPagination, kindFetchFailed, kindBigTraceback, kindServerError},
		outage:   []kind{kindUnauthorizedKeyInURL, kindHTTP429},
	},
	{
		source: "arrivy", index: 1, minute: 2, host: "app.arrivy.com", failRate: 0.012,
		hourly: []entity{
			{name: "tasks", records: 210, duration: 16 * time.Second, endpoint: "https://app.arrivy.com/api/tasks"},
			{name: "entities", records: 32, duration: 3 * time.Second, endpoint: "https://app.arrivy.com/api/entities"},
			{name: "groups", records: 6, duration: 1100 * time.Millisecond, endpoint: "https://app.arrivy.com/api/groups"},
			{name: "task_statuses", records: 160, duration: 11 * time.Second, endpoint: "https://app.arrivy.com/api/tasks/statuses"},
		},
		sporadic: []kind{kindReadTimeout, kindConnectArrivy, kindFetchFailed, kindAPIStatus404, kindNoMessage},
		outage:   []kind{kindConnectArrivy, kindAuthInvalidToken},
	},
	{
		source: "leadconduit", index: 2, minute: 4, host: "app.leadconduit.com", failRate: 0.006,
		hourly: []entity{
			{name: "leads", records: 120, duration: 9 * time.Second, endpoint: "https://app.leadconduit.com/leads"},
			{name: "events", records: 900, duration: 33 * time.Second, endpoint: "https://app.leadconduit.com/events"},
		},
		sporadic: []kind{kindConnectionRefused, kindNotFoundKeyInURL, kindReadTimeout},
		outage:   []kind{kindConnectionRefused},
	},
	{
		source: "five9", index: 3, minute: 6, host: "api.five9.com", failRate: 0.015,
		hourly: []entity{
			{name: "call_log", records: 2400, duration: 85 * time.Second, endpoint: "https://api.five9.com/wsadmin/v12/AdminWebService"},
			{name: "agents", records: 80, duration: 4 * time.Second, endpoint: "https://api.five9.com/wsadmin/v12/AdminWebService"},
			{name: "campaigns", records: 24, duration: 2 * time.Second, endpoint: "https://api.five9.com/wsadmin/v12/AdminWebService"},
			{name: "dispositions", records: 40, duration: 2 * time.Second, endpoint: "https://api.five9.com/wsadmin/v12/AdminWebService"},
		},
		sporadic: []kind{kindRetriesTimeout, kindConnectFive9, kindStoppedByUser},
		outage:   []kind{kindFive9Credentials, kindConnectFive9},
	},
	{
		source: "genius", index: 4, minute: 8, host: "genius-db.internal", failRate: 0.01, summary: true,
		hourly: []entity{
			{name: "appointments", records: 420, duration: 24 * time.Second},
			{name: "appointment_outcomes", records: 300, duration: 14 * time.Second},
			{name: "appointment_services", records: 260, duration: 11 * time.Second},
			{name: "prospects", records: 360, duration: 19 * time.Second},
			{name: "leads", records: 310, duration: 17 * time.Second},
			{name: "quotes", records: 150, duration: 13 * time.Second},
			{name: "jobs", records: 120, duration: 11 * time.Second},
			{name: "job_financings", records: 35, duration: 4 * time.Second},
			{name: "contracts", records: 60, duration: 7 * time.Second},
			{name: "payments", records: 90, duration: 8 * time.Second},
			{name: "call_logs", records: 700, duration: 29 * time.Second},
			{name: "user_activity", records: 520, duration: 15 * time.Second},
			// Last, so that a task that dies leaves an in_progress row behind.
			{name: "marketing_sources", records: 25, duration: 2 * time.Second, engineB: true},
			{name: "prospect_sources", records: 60, duration: 3 * time.Second, engineB: true},
		},
		every4h: []entity{
			{name: "users", records: 140, duration: 3 * time.Second},
			{name: "user_roles", records: 12, duration: 800 * time.Millisecond},
			{name: "divisions", records: 9, duration: 700 * time.Millisecond},
			{name: "division_groups", records: 4, duration: 600 * time.Millisecond},
			{name: "marketing_campaigns", records: 45, duration: 1500 * time.Millisecond},
			{name: "marketing_source_types", records: 8, duration: 600 * time.Millisecond},
			{name: "services", records: 70, duration: 1200 * time.Millisecond},
			{name: "service_categories", records: 11, duration: 600 * time.Millisecond},
			{name: "products", records: 230, duration: 2500 * time.Millisecond},
			{name: "product_categories", records: 18, duration: 700 * time.Millisecond},
			{name: "appointment_types", records: 10, duration: 600 * time.Millisecond},
			{name: "appointment_outcome_types", records: 22, duration: 700 * time.Millisecond},
			{name: "lead_statuses", records: 14, duration: 600 * time.Millisecond},
			{name: "prospect_statuses", records: 12, duration: 600 * time.Millisecond},
			{name: "job_statuses", records: 16, duration: 600 * time.Millisecond},
			{name: "cancellation_reasons", records: 20, duration: 700 * time.Millisecond},
		},
		sporadic: []kind{kindMySQLLost, kindDuplicateKey, kindQueryFailed, kindMySQLConnect},
		outage:   []kind{kindMySQLConnect},
	},
	{
		source: "salespro", index: 5, minute: 10, host: "api.leaptodigital.com", failRate: 0.01,
		hourly: []entity{
			{name: "appointments", records: 85, duration: 10 * time.Second, endpoint: "https://api.leaptodigital.com/v1/appointments"},
			{name: "customers", records: 60, duration: 8 * time.Second, endpoint: "https://api.leaptodigital.com/v1/customers"},
			{name: "estimates", records: 45, duration: 9 * time.Second, endpoint: "https://api.leaptodigital.com/v1/estimates"},
			{name: "users", records: 12, duration: 1500 * time.Millisecond, endpoint: "https://api.leaptodigital.com/v1/users"},
		},
		sporadic: []kind{kindReadTimeout, kindAthena, kindAPIStatus404, kindTerminated, kindNoMessage},
		outage:   []kind{kindAuthInvalidToken},
	},
	{
		source: "callrail", index: 6, minute: 12, host: "api.callrail.com", failRate: 0.02,
		hourly: []entity{
			{name: "calls", records: 340, duration: 21 * time.Second, endpoint: "https://api.callrail.com/v3/a/ACC8154748ae6bd4e278a7cddd38a662f4f/calls.json"},
			{name: "form_submissions", records: 55, duration: 5 * time.Second, endpoint: "https://api.callrail.com/v3/a/ACC8154748ae6bd4e278a7cddd38a662f4f/form_submissions.json"},
			{name: "trackers", records: 22, duration: 2 * time.Second, endpoint: "https://api.callrail.com/v3/a/ACC8154748ae6bd4e278a7cddd38a662f4f/trackers.json"},
			{name: "companies", records: 5, duration: 1 * time.Second, endpoint: "https://api.callrail.com/v3/a/ACC8154748ae6bd4e278a7cddd38a662f4f/companies.json"},
			{name: "users", records: 16, duration: 1 * time.Second, endpoint: "https://api.callrail.com/v3/a/ACC8154748ae6bd4e278a7cddd38a662f4f/users.json"},
		},
		sporadic: []kind{kindCallRailRateLimit, kindTooManyRequestsURL, kindReadTimeout, kindCleanedUpStuck},
		outage:   []kind{kindCallRailAuth, kindCallRailRateLimit},
	},
	{
		source: "gsheet", index: 7, minute: 14, host: "sheets.googleapis.com", failRate: 0.012,
		hourly: []entity{
			{name: "marketing_leads", records: 48, duration: 6 * time.Second, endpoint: "https://sheets.googleapis.com/v4/spreadsheets/1xQ7dEmOmArKeTiNgLeAdS2025/values/Leads"},
			{name: "marketing_spend", records: 20, duration: 3 * time.Second, endpoint: "https://sheets.googleapis.com/v4/spreadsheets/1xQ7dEmOsPeNd2025/values/Spend"},
			{name: "call_center_leads", records: 30, duration: 4 * time.Second, endpoint: "https://sheets.googleapis.com/v4/spreadsheets/1xQ7dEmOcAlLcEnTeR2025/values/Leads"},
		},
		sporadic: []kind{kindAllSheetsFailed, kindNotFoundKeyInURL, kindReadTimeout},
		outage:   []kind{kindSheetConfig},
	},
	{
		source: "salesrabbit", index: 8, minute: 16, host: "api.salesrabbit.com", failRate: 0.015,
		hourly: []entity{
			{name: "leads", records: 150, duration: 11 * time.Second, endpoint: "https://api.salesrabbit.com/leads"},
			{name: "users", records: 26, duration: 2 * time.Second, endpoint: "https://api.salesrabbit.com/users"},
			{name: "areas", records: 9, duration: 1500 * time.Millisecond, endpoint: "https://api.salesrabbit.com/areas"},
		},
		sporadic: []kind{kindRateLimitRetry, kindRetriesTimeout, kindProcessTerminated},
		outage:   []kind{kindSalesRabbitKey, kindRateLimitRetry},
	},
}

// crmBySource finds a CRM of the demo; nil for any other source.
func crmBySource(source string) *crm {
	for _, c := range crms {
		if c.source == source {
			return c
		}
	}
	return nil
}

// entityOf finds a CRM's entity by name among all it syncs.
func (c *crm) entityOf(name string) (entity, bool) {
	for _, list := range [][]entity{c.hourly, c.every4h} {
		for _, e := range list {
			if e.name == name {
				return e, true
			}
		}
	}
	return entity{}, false
}

// The full syncs of the demo's other schedules (read-only, like crms).
var (
	hubspotFull = []entity{
		{name: "contacts", records: 184000, duration: 31 * time.Minute, endpoint: "https://api.hubapi.com/crm/v3/objects/contacts"},
		{name: "companies", records: 26000, duration: 6 * time.Minute, endpoint: "https://api.hubapi.com/crm/v3/objects/companies"},
		{name: "deals", records: 41000, duration: 9 * time.Minute, endpoint: "https://api.hubapi.com/crm/v3/objects/deals"},
	}
	salesproFull = []entity{
		{name: "appointments", records: 9800, duration: 7 * time.Minute, endpoint: "https://api.leaptodigital.com/v1/appointments"},
		{name: "customers", records: 7600, duration: 5 * time.Minute, endpoint: "https://api.leaptodigital.com/v1/customers"},
	}
	gsheetInterval = []entity{
		{name: "marketing_leads", records: 40, duration: 5 * time.Second, endpoint: "https://sheets.googleapis.com/v4/spreadsheets/1xQ7dEmOmArKeTiNgLeAdS2025/values/Leads"},
	}
)
