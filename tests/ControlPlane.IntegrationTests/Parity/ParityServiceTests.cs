using ControlPlane.IntegrationTests.Monitoring;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Parity;

/// <summary>
/// The parity service on the real silo of the monitoring collection (tier <c>oltp</c>, drift check every two seconds):
/// snapshots and their history, diffs with a script that really reconciles, the scheduled drift check raising and
/// resolving SchemaDrift, cpctl end to end and bad input. The schemas are the tests' own (<c>parity_it_*</c>, a
/// tenant <c>parity-acme</c> and the template <c>tenant_template</c>); each test removes them again.
/// </summary>
[Collection(MonitoringCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ParityServiceTests(MonitoringSiloFixture fixture)
{
    private const string Tenant = "parity-acme";
    private const string TenantSchema = "tenant_parity_acme";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private static readonly string Orders = "CREATE TABLE {0}.orders (id bigint PRIMARY KEY, region text NOT NULL, note text);";

    [Fact]
    public async Task A_column_altered_in_one_tenant_schema_is_found_by_diff_and_by_the_scheduled_check_and_resolves_once_reconciled()
    {
        await using var primary = await fixture.OpenPrimaryAsync("parity-test");
        var database = primary.Database;
        await MonitoringSiloFixture.ExecuteAsync(primary, "DROP SCHEMA IF EXISTS tenant_template CASCADE; CREATE SCHEMA tenant_template; " + string.Format(Orders, "tenant_template"));
        await RegisterTenantAsync();
        await MonitoringSiloFixture.ExecuteAsync(primary, string.Format(Orders, TenantSchema));
        try
        {
            // Two snapshots of the same shape: one stored content, the second unchanged.
            var first = await fixture.Parity.SnapshotSchemaAsync(new SnapshotSchemaRequest { Target = "tenant:" + Tenant });
            var second = await fixture.Parity.SnapshotSchemaAsync(new SnapshotSchemaRequest { Target = $"oltp/{database}/{TenantSchema}" });
            Assert.Equal($"oltp/{database}/{TenantSchema}", first.Target);
            Assert.Equal((first.Sequence + 1, first.Hash, false), (second.Sequence, second.Hash, second.Changed));
            Assert.NotEqual("", first.Principal);
            Assert.True(first.Objects >= 5, first.ToString());
            await WaitForStatusAsync(t => t.TemplateFound && t.Scheduled && t.Schemas.Any(s => s.Schema == TenantSchema && s.Differences == 0 && s.Error == ""));

            // Drift by hand: a type changed and a column dropped in the tenant's schema only.
            await MonitoringSiloFixture.ExecuteAsync(primary, $"ALTER TABLE {TenantSchema}.orders ALTER COLUMN region TYPE varchar(10), DROP COLUMN note;");
            var third = await fixture.Parity.SnapshotSchemaAsync(new SnapshotSchemaRequest { Target = "tenant:" + Tenant + "@oltp" });
            Assert.True(third.Changed);
            Assert.NotEqual(first.Hash, third.Hash);

            var page = await fixture.Parity.ListSnapshotsAsync(new ListSnapshotsRequest { Target = "tenant:" + Tenant, PageSize = 2 });
            Assert.Equal([third.Sequence, second.Sequence], page.Snapshots.Select(s => s.Sequence));
            var rest = await fixture.Parity.ListSnapshotsAsync(new ListSnapshotsRequest { Target = "tenant:" + Tenant, PageSize = 2, PageToken = page.NextPageToken });
            Assert.Equal(first.Sequence, rest.Snapshots[0].Sequence);
            Assert.Equal(page.Total, rest.Total);

            // The stored first snapshot against the live schema: what changed since.
            var since = await fixture.Parity.DiffSchemasAsync(new DiffSchemasRequest { A = $"tenant:{Tenant}@{first.Sequence}", B = "tenant:" + Tenant });
            Assert.False(since.Equal);
            Assert.Equal($"oltp/{database}/{TenantSchema}@{first.Sequence}", since.A);
            Assert.Contains(since.Differences, d => d.Text == $"~ column {TenantSchema}.orders.region: type text -> character varying(10)");

            // Tenant against template: the script turns the tenant back into the template's shape.
            var diff = await fixture.Parity.DiffSchemasAsync(new DiffSchemasRequest { A = "tenant:" + Tenant, B = $"oltp/{database}/tenant_template" });
            Assert.False(diff.Equal);
            Assert.Contains(diff.Differences, d => d.Type == SchemaDifferenceType.Added && d.Kind == "column" && d.Object == $"{TenantSchema}.orders.note");
            Assert.Contains(diff.Statements, s => s.Sql.Contains("TYPE text", StringComparison.Ordinal) && s.Lock == "ACCESS EXCLUSIVE");

            var drifted = await WaitForStatusAsync(t => t.Drift);
            Assert.Equal(2, drifted.Schemas.Single(s => s.Schema == TenantSchema).Differences);
            var alert = await WaitForAlertAsync(a => a.Rule == "SchemaDrift" && a.Labels["schema"] == TenantSchema);
            Assert.Equal("oltp", alert.Labels["tier"]);
            Assert.Equal(2, alert.Value);

            await MonitoringSiloFixture.ExecuteAsync(primary, diff.Script);
            var equal = await fixture.Parity.DiffSchemasAsync(new DiffSchemasRequest { A = "tenant:" + Tenant, B = $"oltp/{database}/tenant_template" });
            Assert.True(equal.Equal, equal.ToString());
            await WaitForStatusAsync(t => !t.Drift && t.Schemas.Any(s => s.Schema == TenantSchema && s.Differences == 0));
            await WaitForAlertAsync(null);
        }
        finally
        {
            await MonitoringSiloFixture.ExecuteAsync(primary, "DROP SCHEMA IF EXISTS tenant_template CASCADE");
            await fixture.Tenants.EraseTenantAsync(new TenantEraseRequest { Tenant = Tenant, Confirm = Tenant });
        }
    }

    [Fact]
    public async Task Cpctl_snapshots_lists_and_diffs_with_diff_exit_codes_and_the_script()
    {
        await using var primary = await fixture.OpenPrimaryAsync("parity-test");
        var target = $"oltp/{primary.Database}/parity_it_cli";
        await MonitoringSiloFixture.ExecuteAsync(primary, "DROP SCHEMA IF EXISTS parity_it_cli CASCADE; CREATE SCHEMA parity_it_cli; " + string.Format(Orders, "parity_it_cli"));
        try
        {
            var (exit, output, error) = await fixture.CpctlAsync("parity", "snapshot", target);
            Assert.True(exit == 0, error);
            Assert.StartsWith($"snapshot 1 of {target}: ", output, StringComparison.Ordinal);

            (exit, output, error) = await fixture.CpctlAsync("parity", "diff", target + "@1", target);
            Assert.True(exit == 0, error + output);
            Assert.Contains("are equal", output, StringComparison.Ordinal);

            await MonitoringSiloFixture.ExecuteAsync(primary, "ALTER TABLE parity_it_cli.orders ADD COLUMN placed_at timestamptz");
            (exit, output, _) = await fixture.CpctlAsync("parity", "diff", target + "@1", target);
            Assert.Equal(1, exit);
            Assert.Contains("+ column parity_it_cli.orders.placed_at", output, StringComparison.Ordinal);
            (exit, output, _) = await fixture.CpctlAsync("parity", "diff", target, target + "@1", "--script");
            Assert.Equal(1, exit);
            Assert.Contains("DROP COLUMN IF EXISTS placed_at;", output, StringComparison.Ordinal);

            (exit, output, error) = await fixture.CpctlAsync("parity", "snapshot", target);
            Assert.True(exit == 0, error);
            (exit, output, error) = await fixture.CpctlAsync("parity", "history", target, "--json");
            Assert.True(exit == 0, error);
            using (var json = System.Text.Json.JsonDocument.Parse(output))
            {
                Assert.Equal("2", json.RootElement.GetProperty("total").GetString());
            }
            (exit, output, error) = await fixture.CpctlAsync("parity", "history", target);
            Assert.True(exit == 0, error);
            Assert.Contains("2 snapshot(s)", output, StringComparison.Ordinal);

            (exit, output, error) = await fixture.CpctlAsync("parity", "status", "oltp");
            Assert.True(exit == 0, error + output);
            Assert.StartsWith("tier oltp: ", output, StringComparison.Ordinal);

            (exit, _, error) = await fixture.CpctlAsync("parity", "snapshot", "oltp/no such db");
            Assert.Equal(1, exit);
            Assert.Contains("target 'oltp/no such db' is invalid", error, StringComparison.Ordinal);
        }
        finally
        {
            await MonitoringSiloFixture.ExecuteAsync(primary, "DROP SCHEMA IF EXISTS parity_it_cli CASCADE");
        }
    }

    [Fact]
    public async Task Bad_targets_are_refused_naming_the_argument_and_nothing_is_stored()
    {
        await using var primary = await fixture.OpenPrimaryAsync("parity-test");
        var db = primary.Database;
        await AssertRefusedAsync(StatusCode.InvalidArgument, "target is required", () => fixture.Parity.SnapshotSchemaAsync(new SnapshotSchemaRequest()).ResponseAsync);
        await AssertRefusedAsync(StatusCode.InvalidArgument, "target 'oltp@1' is invalid", () => fixture.Parity.SnapshotSchemaAsync(new SnapshotSchemaRequest { Target = "oltp@1" }).ResponseAsync);
        await AssertRefusedAsync(StatusCode.NotFound, "tier 'nope' not found", () => fixture.Parity.SnapshotSchemaAsync(new SnapshotSchemaRequest { Target = "nope" }).ResponseAsync);
        await AssertRefusedAsync(StatusCode.NotFound, "schema parity_it_missing does not exist",
            () => fixture.Parity.SnapshotSchemaAsync(new SnapshotSchemaRequest { Target = $"oltp/{db}/parity_it_missing" }).ResponseAsync);
        await AssertRefusedAsync(StatusCode.NotFound, "database parity_it_nodb does not exist",
            () => fixture.Parity.SnapshotSchemaAsync(new SnapshotSchemaRequest { Target = "oltp/parity_it_nodb" }).ResponseAsync);
        await AssertRefusedAsync(StatusCode.NotFound, "tenant 'parity-nobody' not found",
            () => fixture.Parity.SnapshotSchemaAsync(new SnapshotSchemaRequest { Target = "tenant:parity-nobody" }).ResponseAsync);
        await AssertRefusedAsync(StatusCode.InvalidArgument, "page_size 501 is out of range",
            () => fixture.Parity.ListSnapshotsAsync(new ListSnapshotsRequest { Target = "oltp", PageSize = 501 }).ResponseAsync);
        await AssertRefusedAsync(StatusCode.InvalidArgument, "page_token 'x' is invalid",
            () => fixture.Parity.ListSnapshotsAsync(new ListSnapshotsRequest { Target = "oltp", PageToken = "x" }).ResponseAsync);
        await AssertRefusedAsync(StatusCode.NotFound, $"b: snapshot 999 of 'oltp/{db}/public' is not stored",
            () => fixture.Parity.DiffSchemasAsync(new DiffSchemasRequest { A = $"oltp/{db}/public", B = $"oltp/{db}/public@999" }).ResponseAsync);
        await AssertRefusedAsync(StatusCode.InvalidArgument, $"a 'oltp/{db}/public' and b 'oltp/{db}' cannot be compared",
            () => fixture.Parity.DiffSchemasAsync(new DiffSchemasRequest { A = $"oltp/{db}/public", B = "oltp" }).ResponseAsync);
        await AssertRefusedAsync(StatusCode.InvalidArgument, "tier 'Bad' is invalid",
            () => fixture.Parity.GetParityStatusAsync(new GetParityStatusRequest { Tier = "Bad" }).ResponseAsync);

        var history = await fixture.Parity.ListSnapshotsAsync(new ListSnapshotsRequest { Target = $"oltp/{db}/parity_it_missing" });
        Assert.Equal(0, history.Total);
    }

    private static async Task AssertRefusedAsync<T>(StatusCode code, string message, Func<Task<T>> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, e.StatusCode);
        Assert.Contains(message, e.Status.Detail, StringComparison.Ordinal);
    }

    private async Task RegisterTenantAsync()
    {
        var existing = await TryGetTenantAsync();
        if (existing is null || existing.State == TenantState.Erased)
        {
            await fixture.Tenants.RegisterTenantAsync(new TenantRegisterRequest
            {
                Tenant = Tenant,
                Placements = { new TenantPlacement { Tier = MonitoringSiloFixture.TierName, Kind = PlacementKind.Schema } },
            });
        }
        var deadline = DateTime.UtcNow + Patience;
        while ((await TryGetTenantAsync())?.State != TenantState.Active)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"tenant {Tenant} did not become active: {await TryGetTenantAsync()}");
            await Task.Delay(200);
        }
    }

    private async Task<TenantInfo?> TryGetTenantAsync()
    {
        try
        {
            return await fixture.Tenants.GetTenantAsync(new TenantRequest { Tenant = Tenant });
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<TierDrift> WaitForStatusAsync(Func<TierDrift, bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var status = await fixture.Parity.GetParityStatusAsync(new GetParityStatusRequest { Tier = MonitoringSiloFixture.TierName });
            var tier = Assert.Single(status.Tiers);
            if (tier.CheckedAt is not null && condition(tier)) return tier;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the drift status did not reach the expected state: {tier}");
            await Task.Delay(250);
        }
    }

    /// <summary>Waits until a matching alert is active, or with null until no SchemaDrift alert of the test's tenant is.</summary>
    private async Task<Alert> WaitForAlertAsync(Func<Alert, bool>? match)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var alerts = (await fixture.Alerts.ListAlertsAsync(new ListAlertsRequest())).Alerts;
            if (match is not null && alerts.FirstOrDefault(match) is { } found) return found;
            if (match is null && !alerts.Any(a => a.Rule == "SchemaDrift" && a.Labels["schema"] == TenantSchema)) return new Alert();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"alerts did not reach the expected state: {alerts}");
            await Task.Delay(250);
        }
    }
}
