// Package browsertest drives the admin console in headless Chromium (Debian's
// chromium package, through chromedp) against a real embedded hub: log in with a key
// file, watch the overview, pause and resume a connector, replay a dead letter,
// search the audit trail. The tests skip when /usr/bin/chromium is absent
// (deploy/dev/chromium.sh installs it). Screenshots go to $VERIHUB_ARTIFACTS, or a
// new temporary directory the test log names.
package browsertest
