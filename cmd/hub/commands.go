package main

// commands lists every subcommand explicitly (no init-time registration).
// One line per command; each command's code lives in cmd_<name>.go.
func commands() map[string]command {
	return map[string]command{
		"demo":         {"run everything on this machine with synthetic agencies and demo clients", runDemo},
		"screen":       {"list the enterprises that qualify for a program (免申即享), as CSV or NDJSON", runScreen},
		"serve":        {"run the hub (embedded when no Kafka or Redis is configured)", runServe},
		"check-config": {"validate configuration files", runCheckConfig},
		"load":         {"validate and publish an NDJSON file to the bus (bulk migration)", runLoad},
		"rebuild":      {"replay the record topics into an empty store", runRebuild},
		"dump":         {"write a store's profiles in canonical form (for comparing stores)", runDump},
		"gen":          {"write deterministic synthetic agency data and expected decisions", runGen},
		"keys":         {"generate, rotate or list the result-signing keys", runKeys},
		"token":        {"sign a client assertion, exchange it, print an access token", runToken},
		"verify-token": {"verify a signed result offline against a JWKS", runVerifyToken},
		"sim":          {"serve one agency's pull API from hub gen data, with fault injection", runSim},
		"ids":          {summary: "check USCCs and ID numbers (hub ids check CODE…)", run: runIDs},
		"push":         {"push an NDJSON file to an agency's feed as signed batches", runPush},
		"probe":        {"check an HTTP health endpoint (container health checks)", runProbe},
	}
}
