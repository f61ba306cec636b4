using System.Net;
using System.Net.Sockets;
using ControlPlane.Cli;
using ControlPlane.Protos.V1;
using Google.Protobuf;
using Xunit;

namespace ControlPlane.Tests.Cli;

/// <summary>cpctl end to end through <see cref="CpctlApp.RunAsync"/>, against a fake FleetService.</summary>
public sealed class CpctlAppTests
{
    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => CpctlRun.RunAsync(args);

    private static string UnusedEndpoint()
    {
        // Bind then release a port: nothing listens there afterwards.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}";
    }

    [Fact]
    public async Task Replica_argument_without_a_slash_exits_2_naming_the_argument()
    {
        var (code, _, error) = await RunAsync("replica", "oltp", "--endpoint", UnusedEndpoint());

        Assert.Equal(2, code);
        Assert.Contains("TIER/NAME", error, StringComparison.Ordinal);
        Assert.Contains("'oltp'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tier_name_with_uppercase_exits_2_naming_the_argument_and_value()
    {
        var (code, _, error) = await RunAsync("tier", "OLTP");

        Assert.Equal(2, code);
        Assert.Contains("TIER: 'OLTP'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_command_exits_2()
    {
        var (code, _, error) = await RunAsync("frobnicate");

        Assert.Equal(2, code);
        Assert.Contains("frobnicate", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoint_that_is_not_an_http_url_exits_2_naming_the_option()
    {
        var (code, _, error) = await RunAsync("status", "--endpoint", "ftp://host");

        Assert.Equal(2, code);
        Assert.Contains("--endpoint: 'ftp://host'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_documents_the_exit_codes_and_exits_0()
    {
        var (code, output, _) = await RunAsync("status", "--help");

        Assert.Equal(0, code);
        Assert.Contains("Exit codes:", output, StringComparison.Ordinal);
        Assert.Contains("CONTROLPLANE_ENDPOINT", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("tier", "oltp")]
    [InlineData("watch")]
    [InlineData("watch", "oltp")]
    public async Task Endpoint_where_nothing_listens_exits_3_naming_it_and_how_to_start_the_silo(params string[] command)
    {
        var endpoint = UnusedEndpoint();
        var (code, _, error) = await RunAsync([.. command, "--endpoint", endpoint]);

        Assert.Equal(3, code);
        Assert.Contains(endpoint, error, StringComparison.Ordinal);
        Assert.Contains("dotnet run --project silo/ControlPlane.Silo", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_tier_exits_1_with_the_status_code_and_the_servers_message()
    {
        await using var server = await FakeFleetServer.StartAsync();

        var (code, _, error) = await RunAsync("tier", "nope", "--endpoint", server.Endpoint);

        Assert.Equal(1, code);
        Assert.Equal("error: NOT_FOUND: tier 'nope' not found in environment 'local'", error.Trim());
    }

    [Fact]
    public async Task Unknown_replica_exits_1_with_the_status_code_and_the_servers_message()
    {
        await using var server = await FakeFleetServer.StartAsync();

        var (code, _, error) = await RunAsync("replica", "oltp/oltp-9", "--endpoint", server.Endpoint);

        Assert.Equal(1, code);
        Assert.Contains("error: NOT_FOUND: replica 'oltp-9' not found in tier 'oltp'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_shows_every_tier_and_every_replica()
    {
        await using var server = await FakeFleetServer.StartAsync();

        var (code, output, _) = await RunAsync("status", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        Assert.Contains("oltp  DEGRADED  primary oltp-1  term 2  version 7", output, StringComparison.Ordinal);
        Assert.Contains("queue  DEGRADED", output, StringComparison.Ordinal);
        Assert.Contains("queue-2", output, StringComparison.Ordinal);
        Assert.Contains("4.0 MiB", output, StringComparison.Ordinal);
        Assert.Contains("replay lag above 1 MiB", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_json_prints_one_parseable_ListTiersResponse()
    {
        await using var server = await FakeFleetServer.StartAsync();

        var (code, output, _) = await RunAsync("status", "--json", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        var response = JsonParser.Default.Parse<ListTiersResponse>(output);
        Assert.Equal(["oltp", "queue"], response.Tiers.Select(t => t.Name));
        Assert.Equal(4 * 1024 * 1024, response.Tiers[0].Replicas[1].LagBytes);
        // Default values are written, so scripts find every key.
        Assert.Contains("\"lagBytes\": \"0\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replica_json_prints_the_replica()
    {
        await using var server = await FakeFleetServer.StartAsync();

        var (code, output, _) = await RunAsync("replica", "queue/queue-2", "--json", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        var replica = JsonParser.Default.Parse<Replica>(output);
        Assert.Equal(ReplicaRole.Standby, replica.Role);
    }

    [Fact]
    public async Task Watch_json_prints_one_object_per_event_per_line_and_exits_0_on_ctrl_c()
    {
        await using var server = await FakeFleetServer.StartAsync();
        using var stdout = new CapturedOutput();
        using var stderr = new CapturedOutput();
        using var ctrlC = new CancellationTokenSource();

        var run = CpctlApp.RunAsync(["watch", "--json", "--endpoint", server.Endpoint], stdout, stderr, ctrlC.Token);
        await stdout.WaitForLinesAsync(3);
        await ctrlC.CancelAsync();
        var code = await run;

        Assert.Equal(0, code);
        var events = stdout.Lines.Select(JsonParser.Default.Parse<TierEvent>).ToList();
        Assert.Equal(3, events.Count);
        Assert.Equal([TierEventKind.Snapshot, TierEventKind.Snapshot, TierEventKind.Change], events.Select(e => e.Kind));
        Assert.Equal("oltp-2: lag 0 B -> 4.0 MiB", Assert.Single(events[2].Changes));
    }

    [Fact]
    public async Task Watch_of_one_tier_prints_a_line_with_time_tier_version_health_primary_and_term()
    {
        await using var server = await FakeFleetServer.StartAsync();
        using var stdout = new CapturedOutput();
        using var stderr = new CapturedOutput();
        using var ctrlC = new CancellationTokenSource();

        var run = CpctlApp.RunAsync(["watch", "oltp", "--endpoint", server.Endpoint], stdout, stderr, ctrlC.Token);
        await stdout.WaitForLinesAsync(1);
        await ctrlC.CancelAsync();

        Assert.Equal(0, await run);
        var line = Assert.Single(stdout.Lines);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  oltp  v7  DEGRADED  primary=oltp-1  term=2  snapshot", line);
    }
}
