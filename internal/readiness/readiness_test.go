package readiness

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/store"
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

// refusingStore refuses every write, as a bucket the role may not write to.
type refusingStore struct{ store.Store }

func (refusingStore) Put(context.Context, string, any) (store.Ref, error) {
	return store.Ref{}, errors.New("AccessDenied: not authorized to perform s3:PutObject")
}

func TestCheckStorePutsAndGetsADocument(t *testing.T) {
	st := store.Dir{Path: t.TempDir()}
	c := CheckStore(context.Background(), st, "s3://bucket/prefix")
	require.Equal(t, OK, c.Status, c.Detail)
	require.Contains(t, c.Detail, "s3://bucket/prefix")
	again := CheckStore(context.Background(), st, "s3://bucket/prefix")
	require.Equal(t, OK, again.Status)
	entries, err := os.ReadDir(filepath.Join(st.Path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "the same document every time")

	c = CheckStore(context.Background(), refusingStore{st}, "s3://bucket/prefix")
	require.Equal(t, Missing, c.Status)
	require.Contains(t, c.Detail, "s3:PutObject")
	require.Contains(t, c.Fix, "s3:PutObject")
}
