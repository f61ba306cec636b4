using ControlPlane.Protos.V1;
using Grpc.Core;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>What the chaos tests ask the control plane about one tier, over its gateway, with bounded waits.</summary>
public sealed class TierControl(FleetService.FleetServiceClient fleet, FailoverService.FailoverServiceClient failover, string tier, string passwordFile)
{
    /// <summary>How long a tier may take to converge after a scenario (the issue's bound).</summary>
    public static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(60);

    public string Name => tier;
    public FleetService.FleetServiceClient Fleet => fleet;
    public FailoverService.FailoverServiceClient Failover => failover;

    public Task<Tier> GetAsync() => fleet.GetTierAsync(new GetTierRequest { Tier = tier }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync;

    public async Task<IReadOnlyList<Decision>> DecisionsAsync() =>
        (await failover.ListDecisionsAsync(new ListDecisionsRequest { Tier = tier, Limit = 200 }, deadline: DateTime.UtcNow.AddSeconds(10))).Decisions;

    /// <summary>The tier's instances with the ports the tier reports, reached with the tier's superuser password.</summary>
    public async Task<IReadOnlyList<ChaosInstance>> InstancesAsync() =>
        (await GetAsync()).Replicas.Select(r => new ChaosInstance(r.Name, r.Host, r.Port, passwordFile)).ToList();

    public async Task<ChaosInstance> InstanceAsync(string replica) => (await InstancesAsync()).Single(i => i.Name == replica);

    /// <summary>Primary writable, every replica healthy, every standby streaming: nothing left to heal.</summary>
    public static bool IsConverged(Tier t) =>
        t.Health == TierHealth.Healthy
        && t.Replicas.All(r => r.Healthy)
        && t.Replicas.Count(r => r.Role == ReplicaRole.Primary) == 1
        && t.Replicas.Single(r => r.Role == ReplicaRole.Primary).Name == t.Primary
        && t.Replicas.Where(r => r.Name != t.Primary).All(r => r.Role == ReplicaRole.Standby && r.WalReceiverStatus == "streaming");

    /// <summary>Polls until the tier converges; the tier as last seen otherwise (the caller asserts).</summary>
    public async Task<Tier> WaitConvergedAsync() => await WaitAsync(IsConverged, ConvergeTimeout, throwOnTimeout: false);

    /// <summary>Polls GetTier (tolerating a gateway or grain that is moving) until <paramref name="condition"/> holds.</summary>
    public async Task<Tier> WaitAsync(Func<Tier, bool> condition, TimeSpan timeout, bool throwOnTimeout = true)
    {
        var deadline = DateTime.UtcNow + timeout;
        Tier? last = null;
        string? lastError = null;
        while (true)
        {
            try
            {
                last = await GetAsync();
                if (condition(last)) return last;
            }
            catch (RpcException ex)
            {
                lastError = ex.Status.ToString();
            }
            if (DateTime.UtcNow > deadline)
            {
                if (throwOnTimeout || last is null)
                    throw new TimeoutException($"tier {tier}: condition not met within {timeout}; last seen: {last}; last error: {lastError}; recent decisions: {await RecentDecisionsAsync()}");
                return last;
            }
            await Task.Delay(200);
        }
    }

    /// <summary>The newest decisions with their evidence, for a failure message (what the tier thought, not only what it showed).</summary>
    private async Task<string> RecentDecisionsAsync()
    {
        try
        {
            return string.Join(" | ", (await DecisionsAsync()).TakeLast(4));
        }
        catch (RpcException ex)
        {
            return $"unavailable ({ex.Status.StatusCode})";
        }
    }

    /// <summary>
    /// Waits until the primary confirms a synchronous standby, as PostgreSQL and the control plane both see it: the
    /// election reads the synchronous standbys the tier's probes saw, so a kill before a probe saw any would test a
    /// different scenario (no standby known to hold every commit: nothing is promoted).
    /// </summary>
    public async Task WaitSynchronousStandbysAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var t = await GetAsync();
            await using var connection = await (await InstanceAsync(t.Primary)).OpenAsync(5, 10, CancellationToken.None);
            await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')", connection);
            var known = t.Replicas.Single(r => r.Name == t.Primary).SynchronousStandbys;
            if ((long)(await command.ExecuteScalarAsync())! > 0 && known.Count > 0) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no synchronous standby on {t.Primary} within {timeout} (the tier knows of: {string.Join(", ", known)})");
            await Task.Delay(200);
        }
    }

    /// <summary>Polls the decision log until a decision matching <paramref name="match"/> appears.</summary>
    public async Task<Decision> WaitForDecisionAsync(Func<Decision, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if ((await DecisionsAsync()).FirstOrDefault(match) is { } found) return found;
            }
            catch (RpcException)
            {
                // The tier grain is moving between silos.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"tier {tier}: no matching decision within {timeout}: {string.Join(" | ", (await DecisionsAsync()).TakeLast(5))}");
            await Task.Delay(100);
        }
    }

    /// <summary>Polls an operation until it finishes.</summary>
    public async Task<Operation> WaitOperationAsync(string operationId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var op = await failover.GetOperationAsync(new GetOperationRequest { OperationId = operationId }, deadline: DateTime.UtcNow.AddSeconds(10));
            if (op.State is OperationState.Succeeded or OperationState.Failed) return op;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"operation {operationId} still {op.State} after {timeout}: {op}");
            await Task.Delay(100);
        }
    }

    /// <summary>Back to the defaults the scenarios assume: not paused, automatic failover on, asynchronous.</summary>
    public async Task ResetAsync()
    {
        var t = await GetAsync();
        if (t.Paused) await failover.ResumeTierAsync(new ResumeTierRequest { Tier = tier });
        await SetSynchronousModeAsync(SynchronousMode.Off);
    }

    public async Task SetSynchronousModeAsync(SynchronousMode mode)
    {
        var settings = await failover.GetFailoverSettingsAsync(new GetFailoverSettingsRequest { Tier = tier });
        if (settings.SynchronousMode == mode && settings.AutoFailover) return;
        settings.SynchronousMode = mode;
        settings.AutoFailover = true;
        await failover.SetFailoverSettingsAsync(new SetFailoverSettingsRequest { Tier = tier, Settings = settings });
    }

    /// <summary>Changes the tier's HA settings (read, modify, write) and returns the previous ones.</summary>
    public async Task<FailoverSettings> ChangeSettingsAsync(Action<FailoverSettings> change)
    {
        var previous = await failover.GetFailoverSettingsAsync(new GetFailoverSettingsRequest { Tier = tier });
        var settings = previous.Clone();
        change(settings);
        await failover.SetFailoverSettingsAsync(new SetFailoverSettingsRequest { Tier = tier, Settings = settings });
        return previous;
    }

    public async Task<string> CreateWritesTableAsync()
    {
        var t = await GetAsync();
        var primary = t.Replicas.Single(r => r.Name == t.Primary);
        await using var connection = await new ChaosInstance(primary.Name, primary.Host, primary.Port, passwordFile).OpenAsync(5, 30, CancellationToken.None);
        await using var command = new Npgsql.NpgsqlCommand(AckedWriter.CreateTableSql, connection);
        await command.ExecuteNonQueryAsync();
        return primary.Name;
    }
}
