package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSettingsFromEnv(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	s := SettingsFromEnv(env(map[string]string{EnvStore: KindS3, EnvStoreBucket: "b", EnvStoreS3PathStyle: "true"}))
	require.NoError(t, s.Validate())
	require.True(t, s.IsS3())
	require.True(t, s.S3PathStyle)

	require.NoError(t, SettingsFromEnv(env(nil)).Validate(), "the data directory by default")

	// A value that does not parse is refused, not read as false.
	s = SettingsFromEnv(env(map[string]string{EnvStore: KindS3, EnvStoreBucket: "b", EnvStoreS3PathStyle: "yes please"}))
	require.EqualError(t, s.Validate(), `SSOCUTOVER_STORE_S3_PATH_STYLE="yes please": want true or false`)
}

func TestSettingsLocation(t *testing.T) {
	require.Equal(t, "s3://b/p/q", Settings{Kind: KindS3, Bucket: "b", Prefix: "p/q/"}.Location("/data"))
	require.Equal(t, "s3://b", Settings{Kind: KindS3, Bucket: "b"}.Location("/data"))
	require.Equal(t, DirIn("/data"), Settings{}.Location("/data"))
}
