package words

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCount(t *testing.T) {
	require.Equal(t, "0 users", Count(0, "user"))
	require.Equal(t, "1 user", Count(1, "user"))
	require.Equal(t, "2 account assignments", Count(2, "account assignment"))
}

func TestOneLine(t *testing.T) {
	require.Equal(t, "fixed aws-billing", OneLine("fixed\naws-billing\t "))
	require.Equal(t, "", OneLine(" \n "))
}

func TestOrDash(t *testing.T) {
	require.Equal(t, "-", OrDash(""))
	require.Equal(t, "Succeeded", OrDash("Succeeded"))
}
