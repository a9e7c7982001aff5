package readiness

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReportWritesEachCheckAndWhatToDo(t *testing.T) {
	var r Report
	r.Pass(AreaAWS, "AWS identity", "arn:aws:sts::1:assumed-role/x/y")
	r.Fail(AreaAWS, "sso:CreateAccountAssignment", CodeMissingPermission, "implicitDeny", "allow it")
	r.Warn(AreaEntra, "Policy.Read.All", "not granted", "grant it")
	require.False(t, r.Ready())
	require.Equal(t, 1, r.Count(Missing))

	var b bytes.Buffer
	require.NoError(t, r.Write(&b))
	require.Equal(t, `ok       aws    AWS identity                 arn:aws:sts::1:assumed-role/x/y
missing  aws    sso:CreateAccountAssignment  implicitDeny
                                             -> allow it
warning  entra  Policy.Read.All              not granted
                                             -> grant it

NOT ready: 1 ok, 1 missing, 1 warnings
`, b.String())

	r.Checks = r.Checks[:1]
	require.True(t, r.Ready())
}

func TestCheckDataDirWritesAndRemovesAFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := CheckDataDir(dir)
	require.Equal(t, OK, c.Status, c.Detail)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing is left behind")

	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	c = CheckDataDir(filepath.Join(file, "data"))
	require.Equal(t, Missing, c.Status)
	require.Contains(t, c.Fix, "SSOCUTOVER_DATA_DIR")
}

func TestCheckWebhookShowsTheHostOnly(t *testing.T) {
	require.Equal(t, OK, CheckWebhook(false, "", nil).Status)
	c := CheckWebhook(true, "hooks.slack.com", nil)
	require.Equal(t, OK, c.Status)
	require.Contains(t, c.Detail, "hooks.slack.com")
	require.Equal(t, Missing, CheckWebhook(false, "", errors.New("not https")).Status)
}
