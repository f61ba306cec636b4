using ControlPlane.Grains.Hardening;
using ControlPlane.Postgres.Hardening;
using ControlPlane.Postgres.Instances;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Hardening;

/// <summary>The audit's facts read from a real PostgreSQL 15, provisioned as the local fleet is, then weakened on purpose.</summary>
[Trait("Category", "Postgres")]
public sealed class WeakenedInstanceTests(HardeningInstanceFixture fixture) : IClassFixture<HardeningInstanceFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The policy of the test: the pool capacity a tier of this size gets, and a repository declared encrypted.</summary>
    private static HardeningContext Context() =>
        new(new HardeningExpectations { BackupRepositoryEncrypted = true }, PoolCapacity: 80, ControlPlaneReserve: 5, DateTimeOffset.UtcNow);

    private async Task<IReadOnlyList<HardeningFinding>> AuditAsync() =>
        HardeningAudit.Run(await HardeningFactsReader.ReadAsync(fixture.Primary.Endpoint, Timeout, CancellationToken.None), Context());

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminSql.ConnectionString(fixture.Primary.Endpoint));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string Failed(IReadOnlyList<HardeningFinding> findings) =>
        string.Join(",", findings.Where(f => f.Result == CheckResult.Fail).Select(f => f.Id).Order(StringComparer.Ordinal));

    [Fact]
    public async Task An_instance_provisioned_like_the_local_fleet_passes_every_check()
    {
        var findings = await AuditAsync();
        Assert.All(findings, f => Assert.True(f.Result == CheckResult.Pass, $"{f.Id} {f.Result}: {f.Current}"));
    }

    [Fact]
    public async Task A_weakened_instance_fails_exactly_the_checks_it_was_weakened_for()
    {
        var hba = Path.Combine(fixture.Primary.DataDirectory, "pg_hba.conf");
        var original = await File.ReadAllTextAsync(hba);
        try
        {
            // A trust line (TLS kept, so only the trust check is concerned), PUBLIC CREATE on public, no connection log.
            await File.AppendAllTextAsync(hba, "hostssl all all 127.0.0.1/32 trust\n");
            await ExecuteAsync("GRANT CREATE ON SCHEMA public TO PUBLIC");
            await ExecuteAsync("ALTER SYSTEM SET log_connections = off");
            await ExecuteAsync("SELECT pg_reload_conf()");
            // A reload is asynchronous: wait until the server shows the new rules.
            var findings = await Eventually(async () => await AuditAsync(), f => Failed(f) == "CP-AUTH-02,CP-LOG-01,CP-PRIV-05");
            Assert.Equal("CP-AUTH-02,CP-LOG-01,CP-PRIV-05", Failed(findings));
            Assert.Contains("trust", findings.Single(f => f.Id == "CP-AUTH-02").Current, StringComparison.Ordinal);
        }
        finally
        {
            await File.WriteAllTextAsync(hba, original);
            await ExecuteAsync("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
            await ExecuteAsync("ALTER SYSTEM RESET log_connections");
            await ExecuteAsync("SELECT pg_reload_conf()");
        }
        await Eventually(async () => await AuditAsync(), f => Failed(f) == "");
    }

    [Fact]
    public async Task A_login_without_superuser_reports_unknown_for_what_it_cannot_read_never_pass()
    {
        var passwordFile = Path.Combine(fixture.Root, "secrets", "auditor");
        await SecretFile.EnsureAsync(passwordFile, CancellationToken.None);
        await ExecuteAsync("DROP ROLE IF EXISTS auditor");
        // A SCRAM verifier, as the control plane sets passwords: log_statement = ddl logs the statement.
        await ExecuteAsync($"CREATE ROLE auditor LOGIN PASSWORD '{SecretFile.ScramSha256Verifier(SecretFile.Read(passwordFile))}'");
        try
        {
            var endpoint = fixture.Primary.Endpoint with { User = "auditor", PasswordFile = passwordFile };
            var findings = HardeningAudit.Run(await HardeningFactsReader.ReadAsync(endpoint, Timeout, CancellationToken.None), Context());
            foreach (var id in new[] { "CP-AUTH-02", "CP-TLS-04", "CP-AUTH-08" })
                Assert.Equal(CheckResult.Unknown, findings.Single(f => f.Id == id).Result);
            Assert.Equal(CheckResult.Pass, findings.Single(f => f.Id == "CP-PRIV-05").Result);
            Assert.DoesNotContain(findings, f => f.Result == CheckResult.Fail);
        }
        finally
        {
            await ExecuteAsync("DROP ROLE auditor");
        }
    }

    private static async Task<T> Eventually<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var limit = DateTime.UtcNow.AddSeconds(60);
        T last;
        do
        {
            last = await read();
            if (done(last)) return last;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < limit);
        return last;
    }
}
