package readiness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/platformguide/ssocutover/internal/store"
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

// storeProbe is the document CheckStore writes: always the same, so that
// the store keeps one object for it however often it is checked.
type storeProbe struct {
	Purpose string `json:"purpose"`
}

// CheckStore checks that st, the S3 store at location, takes a document and
// gives it back: the bucket is reachable, the worker's role may put and get
// objects under the prefix, and the payload keys open what they sealed. It
// writes one small object (store kind "readiness"), the same every time; the
// role needs no permission to delete it.
func CheckStore(ctx context.Context, st store.Store, location string) Check {
	const name = "S3 store"
	fix := "check the bucket and prefix (--store-bucket, --store-prefix), and that the worker's role may s3:PutObject and s3:GetObject under the prefix (and use the KMS key, if one is set)"
	probe := storeProbe{Purpose: "the readiness check of ssocutover writes and reads this document"}
	ref, err := st.Put(ctx, "readiness", probe)
	if err != nil {
		return Check{Area: AreaWorker, Name: name, Status: Missing, Code: CodeNotReady, Detail: err.Error(), Fix: fix}
	}
	var back storeProbe
	if err := st.Get(ctx, ref, &back); err != nil || back != probe {
		detail := fmt.Sprintf("the document written is not the one read back (%+v)", back)
		if err != nil {
			detail = err.Error()
		}
		return Check{Area: AreaWorker, Name: name, Status: Missing, Code: CodeNotReady, Detail: detail, Fix: fix}
	}
	return Check{Area: AreaWorker, Name: name, Status: OK, Detail: location + " takes and gives back a sealed document"}
}
