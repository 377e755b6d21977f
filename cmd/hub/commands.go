package main

// commands lists every subcommand explicitly (no init-time registration).
// One line per command; each command's code lives in cmd_<name>.go.
func commands() map[string]command {
	return map[string]command{
		"ids": {summary: "check USCCs and ID numbers (hub ids check CODE…)", run: runIDs},
	}
}
