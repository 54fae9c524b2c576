// Package tests holds gofab's integration tests. They run the gofab binary
// against a real OpenSSH sshd that tests/testbed.sh starts on a loopback
// port; 127.0.0.2, 127.0.0.3, … all reach it and act as many hosts.
//
// Run them with ./test.sh, which sets the testbed up. Without a testbed
// (GOFAB_TESTBED unset) they are skipped, unless GOFAB_REQUIRE_TESTBED=1.
package tests
