// Package deploy checks the deployment files at the top of the repository
// (docker-compose.yml, Dockerfile). No Docker engine runs where the tests
// run, so the checks read the files instead of starting them.
package deploy
