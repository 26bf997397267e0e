// Package e2e holds restauth's real-browser end-to-end test: Chromium, driven through the
// Chrome DevTools Protocol, runs the requests InvenTree 291's web UI makes. It is its own
// module so that the core library gains no dependency on the browser driver.
package e2e
