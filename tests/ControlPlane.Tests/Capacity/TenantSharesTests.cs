using ControlPlane.Grains.Capacity;
using ControlPlane.Postgres.Capacity;
using ControlPlane.Postgres.Health;
using Xunit;

namespace ControlPlane.Tests.Capacity;

/// <summary>Per-tenant sizes: a schema measured, shared tables estimated by each tenant's share of their rows.</summary>
public sealed class TenantSharesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 4, 0, 0, TimeSpan.Zero);

    private static SharedTableStats Notes(double nullFraction = 0, double distinct = 2, string[]? common = null, double[]? freqs = null) =>
        new("notes", 10_000, 1_000, nullFraction, distinct, common ?? ["acme", "globex"], freqs ?? [0.75, 0.25]);

    [Fact]
    public void A_tenant_among_the_common_values_gets_its_frequency_of_the_table()
    {
        Assert.Equal(7_500, TenantShares.Bytes([Notes()], "acme", ownSchema: false));
        Assert.Equal(2_500, TenantShares.Bytes([Notes()], "globex", ownSchema: false));
        Assert.Equal(0, TenantShares.Bytes([Notes()], "initech", ownSchema: false));
    }

    [Fact]
    public void A_tenant_outside_the_common_values_shares_what_they_and_the_nulls_leave_with_the_other_distinct_values()
    {
        // 10 % nulls, 60 % for the two common tenants: 30 % left over 5 - 2 = 3 other tenants.
        var table = Notes(nullFraction: 0.1, distinct: 5, freqs: [0.4, 0.2]);
        Assert.Equal(0.1, TenantShares.Share(table, "initech", ownSchema: false), 9);
        // n_distinct below zero is a fraction of the rows: -0.005 of 1000 rows = 5 distinct values.
        Assert.Equal(0.1, TenantShares.Share(table with { DistinctValues = -0.005 }, "initech", ownSchema: false), 9);
        // A tenant with a schema of its own is not handed the leftover of the shared tenants.
        Assert.Equal(0, TenantShares.Share(table, "initech", ownSchema: true));
        Assert.Equal(0.4, TenantShares.Share(table, "acme", ownSchema: true));
    }

    [Fact]
    public void Shared_tables_never_analysed_give_no_estimate()
    {
        Assert.Null(TenantShares.Bytes([new SharedTableStats("fresh", 8192, 0, 0, 0, [], [])], "acme", ownSchema: false));
        Assert.Null(TenantShares.Bytes([], "acme", ownSchema: false));
    }

    [Fact]
    public void Tenants_add_their_schema_and_their_shared_estimate_and_each_measured_one_is_a_series_of_its_own()
    {
        var primary = new CapacityFacts(Now, false, 100_000, 3, 100, 0, 0, 500, [], [],
            new Dictionary<string, long> { ["tenant_acme"] = 4_000 }, null) { SharedTables = [Notes()] };
        var tenants = CapacityReadings.Tenants(["acme", "globex", "initech", "Bad Name"], primary);

        // Largest first, then by name (ordinal).
        Assert.Equal(["acme", "globex", "Bad Name", "initech"], tenants.Select(t => t.Tenant));
        Assert.Equal(new TenantCapacity("acme", 11_500, true, 4_000, 7_500), tenants[0]);
        Assert.Equal(new TenantCapacity("globex", 2_500, true, 0, 2_500), tenants[1]);
        Assert.False(Assert.Single(tenants, t => t.Tenant == "Bad Name").Measured);

        var readings = CapacityReadings.Of("oltp", [new ReplicaSample("oltp-1", primary, null)], null, 4, new CapacityTierOptions(), Now, tenants);
        var perTenant = readings.Where(r => r.Resource == CapacityResources.TenantBytes).ToDictionary(r => r.Tenant, r => r.Value);
        Assert.Equal(11_500, perTenant["acme"]);
        Assert.Equal(2_500, perTenant["globex"]);
        Assert.False(perTenant.ContainsKey("Bad Name"));
        Assert.All(readings.Where(r => r.Resource == CapacityResources.TenantBytes), r => Assert.Equal(("", (double?)null), (r.Replica, r.Limit)));
    }

    [Fact]
    public void The_sample_carries_both_disks_and_pg_wal_is_a_series_only_on_a_filesystem_of_its_own()
    {
        var shared = new DiskReading(new FilesystemSpace("/d", "/", 10_000, 4_000), new FilesystemSpace("/d/pg_wal", "/", 10_000, 4_000));
        var own = shared with { Wal = new FilesystemSpace("/d/pg_wal", "/wal", 2_000, 500) };
        CapacityFacts Facts(DiskReading disk) => new(Now, false, 1000, 3, 100, 0, 0, 500, [], [], new Dictionary<string, long>(), disk);

        var onShared = CapacityReadings.Of("oltp", [new ReplicaSample("oltp-1", Facts(shared), null)], null, null, new CapacityTierOptions(), Now);
        Assert.DoesNotContain(onShared, r => r.Resource == CapacityResources.WalDiskUsedBytes);
        var onOwn = CapacityReadings.Of("oltp", [new ReplicaSample("oltp-1", Facts(own), null)], null, null, new CapacityTierOptions(), Now);
        var wal = Assert.Single(onOwn, r => r.Resource == CapacityResources.WalDiskUsedBytes);
        Assert.Equal((1_500d, 2_000d, "oltp-1"), (wal.Value, wal.Limit!.Value, wal.Replica));

        var view = CapacityReadings.View(new ReplicaSample("oltp-1", Facts(own), null));
        Assert.Equal((10_000L, 4_000L, 0.4), (view.DiskTotalBytes!.Value, view.DiskFreeBytes!.Value, view.DiskFreeRatio!.Value));
        Assert.Equal((2_000L, 500L, 0.25), (view.WalDiskTotalBytes!.Value, view.WalDiskFreeBytes!.Value, view.WalDiskFreeRatio!.Value));
    }
}
