package main

// commands lists every subcommand explicitly (no init-time registration).
// One line per command; each command's code lives in cmd_<name>.go.
func commands() map[string]command {
	return map[string]command{
		"keys":         {"manage result-signing keys: generate|rotate|list --dir DIR", runKeys},
		"token":        {"get an access token with a client assertion", runToken},
		"verify-token": {"verify a result token offline against a JWKS", runVerifyToken},
	}
}
