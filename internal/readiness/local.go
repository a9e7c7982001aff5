package readiness

import (
	"fmt"
	"os"
	"path/filepath"
)

// CheckDataDir checks that the store's directory exists or can be made,
// and takes a file: it writes one and removes it.
func CheckDataDir(dir string) Check {
	const name = "data directory"
	fix := "make the directory writable by the worker's user, or point SSOCUTOVER_DATA_DIR elsewhere"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Check{Area: AreaWorker, Name: name, Status: Missing, Code: CodeNotReady, Detail: err.Error(), Fix: fix}
	}
	f, err := os.CreateTemp(dir, ".readiness-*")
	if err != nil {
		return Check{Area: AreaWorker, Name: name, Status: Missing, Code: CodeNotReady, Detail: err.Error(), Fix: fix}
	}
	tmp := f.Name()
	_ = f.Close()
	_ = os.Remove(tmp)
	abs, _ := filepath.Abs(dir)
	return Check{Area: AreaWorker, Name: name, Status: OK, Detail: abs + " is writable"}
}

// CheckWebhook says whether the chat webhook is configured and well
// formed. host is all of it that may be shown (its path is a secret); err
// is why it did not parse.
func CheckWebhook(set bool, host string, err error) Check {
	const name = "chat webhook"
	switch {
	case err != nil:
		return Check{Area: AreaWorker, Name: name, Status: Missing, Code: CodeNotReady, Detail: err.Error(),
			Fix: "set SSOCUTOVER_WEBHOOK_URL (or _FILE) to the incoming webhook URL Slack or Teams gave, or unset it"}
	case !set:
		return Check{Area: AreaWorker, Name: name, Status: OK, Detail: "not set: gate notifications go to the log only"}
	}
	return Check{Area: AreaWorker, Name: name, Status: OK, Detail: fmt.Sprintf("set, on %s (not called; --send-test-notification calls it)", host)}
}
