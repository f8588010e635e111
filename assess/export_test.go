package assess

// LoadTestRecords gives the external tests (run_test.go, which needs
// sqlstore) the records of testdata.
var LoadTestRecords = loadRecords
