using ControlPlane.Postgres.Verify;
using Xunit;

namespace ControlPlane.Tests.Consistency;

/// <summary>Reading pgbench's per-transaction log into the verify step's latencies, failures and run time.</summary>
public sealed class PgbenchLogTests
{
    [Fact]
    public void Committed_transactions_give_their_latencies_in_milliseconds_and_the_run_spans_first_start_to_last_end()
    {
        var log = PgbenchLog.Read([
            "0 0 1500 0 1700000000 100000",
            "1 0 2500 0 1700000000 500000",
            "0 1 1000 0 1700000001 100000",
        ]);
        Assert.Equal([1.5, 2.5, 1.0], log.LatenciesMs);
        Assert.Equal(0, log.Failed);
        // First start: 1700000000.1 - 0.0015; last end: 1700000001.1.
        Assert.Equal(1.0015, log.Elapsed.TotalSeconds, 6);
    }

    [Fact]
    public void Failed_transactions_are_counted_apart_and_skipped_or_short_lines_are_ignored()
    {
        var log = PgbenchLog.Read(["0 0 failed 0 1700000000 100000", "0 1 skipped 0 1700000000 200000", "garbage", "", "0 2 800 0 1700000000 300000"]);
        Assert.Equal([0.8], log.LatenciesMs);
        Assert.Equal(1, log.Failed);
    }

    [Fact]
    public void Aborted_clients_are_errors_and_the_first_error_line_is_what_the_report_says()
    {
        const string stderr = "pgbench (15.10)\npgbench: error: client 1 script 0 aborted in command 0 query 0: ERROR:  relation \"x\" does not exist\npgbench: error: client 0 script 0 aborted in command 0 query 0: ERROR:  relation \"x\" does not exist\n";
        Assert.Equal(2, PgbenchLog.AbortedClients(stderr));
        Assert.StartsWith("pgbench: error: client 1 script 0 aborted", PgbenchLog.FirstError(stderr, 2), StringComparison.Ordinal);
        Assert.Equal("pgbench exited with 1", PgbenchLog.FirstError("", 1));
        Assert.Equal("", PgbenchLog.FirstError("", 0));
    }
}
