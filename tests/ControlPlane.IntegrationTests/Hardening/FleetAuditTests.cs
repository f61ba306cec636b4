using ControlPlane.Cli;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Xunit;

namespace ControlPlane.IntegrationTests.Hardening;

/// <summary>The local fleet the silo provisions, audited through the gateway and cpctl: the embedded default is a hardened example.</summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class FleetAuditTests(SiloFixture fixture)
{
    private HardeningService.HardeningServiceClient Client => new(fixture.Invoker(fixture.AdminToken));

    [Theory]
    [InlineData("oltp")]
    [InlineData("content")]
    [InlineData("queue")]
    [InlineData("olap")]
    public async Task The_provisioned_local_fleet_passes_its_own_audit_with_only_the_documented_exception_accepted(string tier)
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        var audit = await Client.AuditSecurityAsync(new AuditSecurityRequest { Tier = tier });
        Assert.Equal(2, audit.Replicas.Count);
        Assert.Equal(0, audit.FailedHigh);
        foreach (var replica in audit.Replicas)
        {
            Assert.Equal("", replica.Error);
            Assert.True(replica.Findings.Count >= 30);
            Assert.All(replica.Findings, f => Assert.True(f.Result != CheckResult.Fail, $"{replica.Replica} {f.Id}: {f.Current}"));
            var accepted = Assert.Single(replica.Findings, f => f.Result == CheckResult.Accepted);
            Assert.Equal("CP-BAK-01", accepted.Id);
            Assert.NotEmpty(accepted.AcceptedReason);
        }
        var history = await Client.GetSecurityAuditAsync(new GetSecurityAuditRequest { Tier = tier });
        Assert.Equal(audit.AuditedAt, history.Last.AuditedAt);
        Assert.NotEmpty(history.Trend);
    }

    [Fact]
    public async Task Cpctl_audit_security_exits_zero_on_the_provisioned_fleet_and_prints_the_accepted_exception()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CpctlApp.RunAsync(["audit-security", "queue", "--endpoint", fixture.Endpoint, "--token-file", fixture.AdminTokenFile], stdout, stderr, CancellationToken.None);
        Assert.True(exit == 0, stderr.ToString() + stdout);
        Assert.Contains("ACCEPTED CP-BAK-01", stdout.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL ", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_embedded_catalog_passes_the_same_audit_with_only_the_documented_exception_accepted()
    {
        var audit = await Client.AuditCatalogSecurityAsync(new AuditCatalogSecurityRequest());
        Assert.Equal("catalog", audit.Tier);
        Assert.Equal(0, audit.FailedHigh);
        var catalog = Assert.Single(audit.Replicas);
        Assert.Equal("catalog", catalog.Replica);
        Assert.Equal("", catalog.Error);
        Assert.True(catalog.Findings.Count >= 30);
        Assert.All(catalog.Findings, f => Assert.True(f.Result != CheckResult.Fail, $"catalog {f.Id}: {f.Current}"));
        var accepted = Assert.Single(catalog.Findings, f => f.Result == CheckResult.Accepted);
        Assert.Equal("CP-BAK-01", accepted.Id);
        // TLS, scram, hba and roles are facts the catalog's login can read: none of them is unknown.
        Assert.All(catalog.Findings.Where(f => f.Id.StartsWith("CP-TLS", StringComparison.Ordinal) || f.Id.StartsWith("CP-AUTH", StringComparison.Ordinal)),
            f => Assert.True(f.Result == CheckResult.Pass, $"catalog {f.Id}: {f.Result} {f.Current}"));

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CpctlApp.RunAsync(["catalog", "audit-security", "--endpoint", fixture.Endpoint, "--token-file", fixture.AdminTokenFile], stdout, stderr, CancellationToken.None);
        Assert.True(exit == 0, stderr.ToString() + stdout);
        Assert.Contains("catalog: score", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("ACCEPTED CP-BAK-01", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_tier_or_replica_is_not_found_and_a_malformed_one_is_invalid()
    {
        var unknownTier = await Assert.ThrowsAsync<RpcException>(async () => await Client.AuditSecurityAsync(new AuditSecurityRequest { Tier = "nope" }));
        Assert.Equal(StatusCode.NotFound, unknownTier.StatusCode);
        var unknownReplica = await Assert.ThrowsAsync<RpcException>(async () => await Client.AuditSecurityAsync(new AuditSecurityRequest { Tier = "oltp", Replica = "oltp-9" }));
        Assert.Equal(StatusCode.NotFound, unknownReplica.StatusCode);
        Assert.Contains("oltp-1", unknownReplica.Status.Detail, StringComparison.Ordinal);
        var malformed = await Assert.ThrowsAsync<RpcException>(async () => await Client.AuditSecurityAsync(new AuditSecurityRequest { Tier = "Bad Tier" }));
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        Assert.Contains("tier", malformed.Status.Detail, StringComparison.Ordinal);
        var badLimit = await Assert.ThrowsAsync<RpcException>(async () => await Client.GetSecurityAuditAsync(new GetSecurityAuditRequest { Tier = "oltp", TrendLimit = -1 }));
        Assert.Equal(StatusCode.InvalidArgument, badLimit.StatusCode);
    }

    [Fact]
    public async Task One_replica_can_be_audited_alone()
    {
        var audit = await Client.AuditSecurityAsync(new AuditSecurityRequest { Tier = "oltp", Replica = "oltp-2" });
        Assert.Equal("oltp-2", Assert.Single(audit.Replicas).Replica);
    }

    [Fact]
    public async Task Every_check_is_listed_with_its_remediation()
    {
        var checks = await Client.ListHardeningChecksAsync(new ListHardeningChecksRequest());
        Assert.True(checks.Checks.Count >= 30);
        Assert.All(checks.Checks, c => Assert.NotEmpty(c.Remediation));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", checks.VersionsUpdatedOn);
    }
}
