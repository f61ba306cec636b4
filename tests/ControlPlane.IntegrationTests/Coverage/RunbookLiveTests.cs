using ControlPlane.Protos.V1;
using Grpc.Core;
using Xunit;

namespace ControlPlane.IntegrationTests.Coverage;

/// <summary>Runbooks rendered over gRPC from the live tier name its real replicas, ports and settings.</summary>
[Collection(OperabilityCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class RunbookLiveTests(OperabilitySiloFixture fixture)
{
    private const string Tier = OperabilitySiloFixture.TierName;
    private readonly RunbookService.RunbookServiceClient _runbooks = new(fixture.Invoker);

    public static TheoryData<string> Kinds => ["failover", "switchover", "restore", "pitr", "rollback", "leak", "rejoin", "erase"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Every_runbook_renders_from_the_live_tier_with_its_real_replicas_and_ports(string kind)
    {
        var tier = await new FleetService.FleetServiceClient(fixture.Invoker).GetTierAsync(new GetTierRequest { Tier = Tier });
        var runbook = await _runbooks.GetRunbookAsync(new GetRunbookRequest { Kind = kind, Tier = Tier });
        Assert.Equal(kind, runbook.Kind);
        Assert.Equal("local", runbook.Environment);
        Assert.Contains(Tier, runbook.Title);
        Assert.StartsWith("# " + runbook.Title, runbook.Markdown);
        var primary = tier.Replicas.Single(r => r.Name == tier.Primary);
        Assert.Contains($"port={primary.Port}", runbook.Markdown);
        Assert.Contains($"cpctl ", runbook.Markdown);
        Assert.DoesNotContain("{{", runbook.Markdown);
        Assert.DoesNotContain(File.ReadAllText(fixture.PasswordFile).Trim(), runbook.Markdown);
    }

    [Fact]
    public async Task The_failover_runbook_names_the_standby_to_promote_and_the_tiers_settings()
    {
        var tier = await new FleetService.FleetServiceClient(fixture.Invoker).GetTierAsync(new GetTierRequest { Tier = Tier });
        var standby = tier.Replicas.Single(r => r.Name != tier.Primary);
        var markdown = (await _runbooks.GetRunbookAsync(new GetRunbookRequest { Kind = "failover", Tier = Tier })).Markdown;
        Assert.Contains($"cpctl failover {Tier} --target {standby.Name}", markdown);
        Assert.Contains($"| {standby.Name} | standby | {standby.Host}:{standby.Port} |", markdown);
        Assert.Contains("automatic failover **on**", markdown);
    }

    [Theory]
    [InlineData("reboot", Tier, StatusCode.InvalidArgument, "kind 'reboot' is not a runbook; expected one of failover, switchover")]
    [InlineData("", Tier, StatusCode.InvalidArgument, "kind '' is not a runbook")]
    [InlineData("failover", "", StatusCode.InvalidArgument, "tier is required")]
    [InlineData("failover", "Bad Tier", StatusCode.InvalidArgument, "tier 'Bad Tier' is invalid")]
    [InlineData("failover", "nope", StatusCode.NotFound, "tier 'nope' not found")]
    public async Task A_bad_kind_or_tier_is_refused_naming_the_argument(string kind, string tier, StatusCode code, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _runbooks.GetRunbookAsync(new GetRunbookRequest { Kind = kind, Tier = tier }).ResponseAsync);
        Assert.Equal(code, error.StatusCode);
        Assert.Contains(message, error.Status.Detail);
    }

    [Fact]
    public async Task Coverage_of_an_unknown_tier_is_not_found_and_a_malformed_one_invalid()
    {
        var coverage = new CoverageService.CoverageServiceClient(fixture.Invoker);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => coverage.GetCoverageAsync(new GetCoverageRequest { Tier = "nope" }).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => coverage.GetCoverageAsync(new GetCoverageRequest { Tier = "-x" }).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => coverage.GetCoverageAsync(new GetCoverageRequest { Environment = "Prod!" }).ResponseAsync)).StatusCode);
    }
}
