// Package deploy holds the worker's Helm chart (helm/ssocutover) and the
// tests that render it with Helm's own renderer.
package deploy
