using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Tenants;

/// <summary>
/// A silo SIGKILLed in the middle of an erase (its drop step held up by a lock the test holds): the next silo finds the
/// operation in the tenant's state at the drop step and finishes it; nothing of the tenant remains.
/// </summary>
[Trait("Category", "Postgres")]
public sealed class TenantCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string TierName = "oltp";
    private readonly OneTierSilos _silos = new("cp-tenant-crash-", TierName);

    [Fact]
    public async Task A_silo_killed_mid_erase_leaves_the_erase_at_its_step_and_the_next_silo_finishes_it()
    {
        var first = _silos.Launch();
        var (tier, tenants) = await ConnectAsync(first);
        var converged = await tier.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        var primary = converged.Replicas.Single(r => r.Name == converged.Primary);
        var name = "crash-" + Guid.NewGuid().ToString("N")[..6];
        var role = "tenant_" + name.Replace('-', '_');
        await tenants.RegisterTenantAsync(new TenantRegisterRequest { Tenant = name, Placements = { new TenantPlacement { Tier = TierName } } });

        // The test's own session holds a lock on one of the tenant's tables, so the erase stops at its drop step.
        await using var blocker = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = primary.Host, Port = primary.Port, Database = "postgres", Username = "postgres",
            Password = SecretFile.Read(_silos.Fleet.SuperuserPasswordFile(TierName)), Pooling = false,
        }.ConnectionString);
        await blocker.OpenAsync();
        await using (var create = new NpgsqlCommand($"CREATE TABLE {role}.orders (id int); INSERT INTO {role}.orders VALUES (1), (2)", blocker)) await create.ExecuteNonQueryAsync();
        var hold = await blocker.BeginTransactionAsync();
        await using (var lockIt = new NpgsqlCommand($"LOCK TABLE {role}.orders IN ACCESS SHARE MODE", blocker, hold)) await lockIt.ExecuteNonQueryAsync();

        var erase = tenants.EraseTenantAsync(new TenantEraseRequest { Tenant = name, Confirm = name }).ResponseAsync;
        var atDrop = await WaitForTenantAsync(tenants, first, name, t => t.State == TenantState.Erasing
            && t.Operation is { } op && op.Next < op.Steps.Count && op.Steps[op.Next].Kind == "drop", TimeSpan.FromSeconds(25));
        output.WriteLine($"erase {atDrop.Operation.Id} at step {atDrop.Operation.Next + 1} of {atDrop.Operation.Steps.Count}; killing the silo");

        first.Kill();
        await Assert.ThrowsAnyAsync<RpcException>(() => erase);
        await hold.RollbackAsync();

        var second = _silos.Launch();
        (_, tenants) = await ConnectAsync(second);
        var erased = await WaitForTenantAsync(tenants, second, name, t => t.State == TenantState.Erased, TimeSpan.FromMinutes(3));
        Assert.Equal(atDrop.Operation.Id, erased.Operation.Id);
        Assert.True(erased.EraseReport.Verified);
        Assert.Equal(2, erased.EraseReport.Tiers.Single().Rows.Single(r => r.Table == $"{role}.orders").Before);
        Assert.Single(erased.History, h => h.Event.StartsWith("erase started", StringComparison.Ordinal));

        await using (var check = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", blocker))
        {
            check.Parameters.Add(new NpgsqlParameter { Value = role });
            Assert.False((bool)(await check.ExecuteScalarAsync())!);
        }
    }

    private static async Task<TenantInfo> WaitForTenantAsync(
        TenantService.TenantServiceClient tenants, SiloChild silo, string name, Func<TenantInfo, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        TenantInfo? last = null;
        while (DateTime.UtcNow < deadline)
        {
            silo.ThrowIfExited();
            try
            {
                last = await tenants.GetTenantAsync(new TenantRequest { Tenant = name });
            }
            catch (RpcException)
            {
                // The silo is still starting.
            }
            if (last is not null && condition(last)) return last;
            await Task.Delay(200);
        }
        throw new TimeoutException($"the tenant did not reach the expected state in {timeout}: {last}");
    }

    private async Task<(TierControl Tier, TenantService.TenantServiceClient Tenants)> ConnectAsync(SiloChild silo)
    {
        var invoker = await _silos.ConnectAsync(silo);
        var tier = new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker), TierName, _silos.Fleet.SuperuserPasswordFile(TierName));
        await tier.WaitAsync(_ => true, TimeSpan.FromMinutes(2));
        return (tier, new TenantService.TenantServiceClient(invoker));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _silos.DisposeAsync().AsTask();
}
