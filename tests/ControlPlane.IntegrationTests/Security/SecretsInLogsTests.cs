using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Xunit;

namespace ControlPlane.IntegrationTests.Security;

/// <summary>Every log line the silo wrote during the run, and its banner, grepped for every token and password we know of.</summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class SecretsInLogsTests(SiloFixture fixture)
{
    [Fact]
    public async Task No_token_or_password_appears_in_any_log_line()
    {
        // Exercise the paths that handle secrets: create, use, refuse, revoke, use revoked.
        var created = await SecurityTokens.CreateAsync(fixture, "log-grep", Role.Operator);
        var fleet = new FleetService.FleetServiceClient(fixture.Invoker(created.Token));
        await fleet.ListTiersAsync(new ListTiersRequest());
        await Assert.ThrowsAsync<RpcException>(() => new SecurityService.SecurityServiceClient(fixture.Invoker(created.Token)).ListTokensAsync(new ListTokensRequest()).ResponseAsync);
        await SecurityTokens.Admin(fixture).RevokeTokenAsync(new RevokeTokenRequest { Id = created.Info.Id });
        await Assert.ThrowsAsync<RpcException>(() => fleet.ListTiersAsync(new ListTiersRequest()).ResponseAsync);
        var wrong = created.Token[..^4] + "AAAA";
        await Assert.ThrowsAsync<RpcException>(() => new FleetService.FleetServiceClient(fixture.Invoker(wrong)).ListTiersAsync(new ListTiersRequest()).ResponseAsync);

        var secrets = SecurityTokens.Issued.Append(fixture.AdminToken).Append(wrong)
            .SelectMany(t => new[] { t, t.Length > 21 ? t[21..] : t })
            .Concat(Directory.GetFiles(Path.Combine(fixture.DataDirectory, "secrets")).Select(f => File.ReadAllText(f).Trim()))
            .Where(s => s.Length >= 16)
            .Distinct()
            .ToList();
        Assert.True(secrets.Count >= 4, $"only {secrets.Count} secrets to look for");
        var lines = fixture.Logs.Lines.Append(fixture.Output.ToString()).ToList();
        Assert.True(lines.Count > 10, "the log sink captured almost nothing; is it attached?");
        var leaks = lines.Where(line => secrets.Any(s => line.Contains(s, StringComparison.Ordinal))).Take(5).ToList();
        Assert.True(leaks.Count == 0, "secrets found in logs (shown cut): " + string.Join(" | ", leaks.Select(l => l[..Math.Min(120, l.Length)])));
    }
}
