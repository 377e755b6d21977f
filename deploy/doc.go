// Package deploy holds verihub's deployment files (configurations, Dockerfile,
// compose, Kubernetes, Prometheus rules, Grafana dashboard) and no code: its tests
// check that every configuration loads as the hub loads it and would start with the
// secrets it names, that the manifests agree with the hub (routes, ports, partitions,
// subcommands and flags), and that every metric the alerts and dashboard use is one
// the hub registers. External validators (promtool, kubernetes-validate, dclint,
// kubectl) run when they are installed.
package deploy
