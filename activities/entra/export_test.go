package entra

// SetGroupsPerChunk makes InventoryEntra checkpoint every n groups, so that
// tests can checkpoint small tenants.
func SetGroupsPerChunk(a *Activities, n int) { a.groupsPerChunk = n }
