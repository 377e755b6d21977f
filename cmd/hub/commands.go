package main

// commands lists every subcommand explicitly (no init-time registration).
// One line per command; each command's code lives in cmd_<name>.go.
func commands() map[string]command {
	return map[string]command{
		"sim": {"serve one agency's pull API from hub gen data, with fault injection", runSim},
	}
}
