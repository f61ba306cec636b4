using ControlPlane.Cli;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Google.Protobuf;
using Xunit;

namespace ControlPlane.IntegrationTests.Fleet;

/// <summary>cpctl against the real silo: the same entry point the binary runs, with its output captured.</summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class CpctlEndToEndTests(SiloFixture fixture)
{
    private async Task<(int Exit, string Out, string Err)> Cpctl(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CpctlApp.RunAsync([.. args, "--endpoint", fixture.Endpoint, "--token-file", fixture.AdminTokenFile], stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Status_json_is_the_canonical_json_of_every_tier()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        var (exit, output, error) = await Cpctl("status", "--json");
        Assert.True(exit == 0, error);
        var response = JsonParser.Default.Parse<ListTiersResponse>(output);
        Assert.Equal(4, response.Tiers.Count);
        Assert.All(response.Tiers, t => Assert.Equal(2, t.Replicas.Count));
    }

    [Fact]
    public async Task Status_table_shows_every_tier_and_replica()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        var (exit, output, error) = await Cpctl("status");
        Assert.True(exit == 0, error);
        foreach (var name in new[] { "oltp-1", "oltp-2", "content-1", "queue-2", "olap-1" })
        {
            Assert.Contains(name, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Replica_json_answers_the_replica()
    {
        var (exit, output, error) = await Cpctl("replica", "content/content-2", "--json");
        Assert.True(exit == 0, error);
        var replica = JsonParser.Default.Parse<Replica>(output);
        Assert.Equal("content-2", replica.Name);
        Assert.Equal("content", replica.Tier);
    }

    [Fact]
    public async Task Sla_reports_the_availability_the_write_probe_measured_and_refuses_a_bad_period()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        SlaReport? report = null;
        for (var i = 0; i < 100 && report is not { ObservedSeconds: > 0 }; i++)
        {
            if (i > 0) await Task.Delay(200);
            var (exit, output, error) = await Cpctl("sla", "content", "--period", "1h", "--json");
            Assert.True(exit is 0 or 1, error);
            report = JsonParser.Default.Parse<SlaReport>(output);
            Assert.Equal(report.MeetsTarget ? 0 : 1, exit);
        }
        Assert.True(report!.ObservedSeconds > 0, $"nothing observed: {report}");
        Assert.True(report.WritableNow, report.LastError);
        Assert.True(report.HasAvailabilityPercent);

        var (_, text, _) = await Cpctl("sla", "content", "--period", "1h");
        Assert.Contains("availability", text, StringComparison.Ordinal);
        Assert.Contains("error budget", text, StringComparison.Ordinal);

        var (badExit, _, badError) = await Cpctl("sla", "content", "--period", "3w");
        Assert.NotEqual(0, badExit);
        Assert.Contains("INVALID_ARGUMENT", badError, StringComparison.Ordinal);
        Assert.Contains("unit 'w'", badError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_tier_exits_1_with_the_server_message()
    {
        var (exit, _, error) = await Cpctl("tier", "billing");
        Assert.Equal(1, exit);
        Assert.Contains("NOT_FOUND", error, StringComparison.Ordinal);
        Assert.Contains("'billing'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_json_prints_one_snapshot_object_per_line_first()
    {
        // Stops the watch once its first line is out (a loaded machine may take seconds to deliver it).
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var stdout = new FirstLineWriter(cts);
        var exit = await CpctlApp.RunAsync(["watch", "oltp", "--json", "--endpoint", fixture.Endpoint, "--token-file", fixture.AdminTokenFile], stdout, new StringWriter(), cts.Token);
        Assert.Equal(0, exit);
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 0, "cpctl watch printed nothing within a minute");
        var e = JsonParser.Default.Parse<TierEvent>(lines[0]);
        Assert.Equal(TierEventKind.Snapshot, e.Kind);
        Assert.Equal("oltp", e.TierName);
    }

    /// <summary>A writer that cancels the command once a whole line has been written.</summary>
    private sealed class FirstLineWriter(CancellationTokenSource stop) : StringWriter
    {
        public override void Write(char value)
        {
            base.Write(value);
            if (value == '\n') stop.Cancel();
        }

        public override void Write(string? value)
        {
            base.Write(value);
            if (value?.Contains('\n', StringComparison.Ordinal) == true) stop.Cancel();
        }

        public override Task WriteAsync(string? value)
        {
            Write(value);
            return Task.CompletedTask;
        }

        public override Task WriteLineAsync(string? value)
        {
            Write(value + "\n");
            return Task.CompletedTask;
        }
    }
}
